"""The stream server: live feeds over Server-Sent Events, served by uvicorn beside gunicorn
(docs/architecture.md#live-feed). Raw ASGI (``asgi``) over one shared Redis pub/sub connection
per process (``hub``); each open stream (``stream``) loads and renders what it sends from
PostgreSQL with the feed's own loader (``loading``), so visibility matches the feed."""
