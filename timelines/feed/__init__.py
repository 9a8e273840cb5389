"""The feed read path (docs/architecture.md#read-path): ``page.py`` assembles a page from the
cached lists and PostgreSQL, ``rebuild.py`` rebuilds a missing list once, ``policy.py`` says
how long lists live, ``visibility.py`` and ``rows.py`` are the feed's SQL, ``check.py``
compares what readers get with PostgreSQL.
"""
