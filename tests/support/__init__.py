"""Starting and stopping real processes, for the tests and the benchmarks alike.

- ``procs``: free ports, waiting, stopping, the ``Process`` of a fault test, a child's environment
- ``redis``: a private redis-server; ``cluster``: a throwaway Redis Cluster
- ``postgres``: a private PostgreSQL cluster, database URLs, creating and recreating databases
- ``celery``: real ``celery worker`` processes; ``http``: gunicorn and a tiny JSON client
- ``uvicorn``: the stream server (feedsite.streaming) on a free port
- ``stack``: everything a fault test starts, torn down by its fixture

Every server listens on 127.0.0.1 on a port the kernel picked at run time: other checkouts
and other pytest-xdist workers run on this machine at the same time.
"""
