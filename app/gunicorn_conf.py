"""gunicorn settings for the mock: bind from HOST/PORT, one worker per CPU, gevent workers.

gevent serves each connection in a greenlet, so a delayed request or a slow client never holds
a worker; `conversations-mock serve` loads this file, and `gunicorn -c python:app.gunicorn_conf
'app:create_app()'` works too.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("MOCK_WORKERS") or multiprocessing.cpu_count())
worker_class = "gevent"
worker_connections = 1000
# Build the app (and check settings and fixtures) once in the master, before forking.
preload_app = True
# Seconds a worker may spend silent before it is replaced; delays are capped well below it.
timeout = 90
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = "info"
