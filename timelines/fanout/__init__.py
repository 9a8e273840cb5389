"""Fan-out: getting a new post to its readers (docs/architecture.md#fan-out).

``enqueue.py`` starts one (the only module that imports the tasks), ``plan.py`` decides who
gets it and how, ``push.py`` runs the batch loop and delivers each batch, ``ledger.py`` keeps
the PostgreSQL bookkeeping the sweeper re-enqueues from.
"""
