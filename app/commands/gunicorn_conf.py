"""gunicorn settings for the mock: gevent workers, the app built before forking, limits and the log.

gevent serves each connection in a greenlet, so a delayed request or a slow client never holds
a worker. `conversations-mock serve` loads this file and adds bind and workers from the mock's
own settings (host, port, workers); run directly, gunicorn takes them from its own flags:
`gunicorn -c python:conversations_mock.commands.gunicorn_conf -b 127.0.0.1:8000 -w 2 'conversations_mock:create_app()'`.
"""
# gunicorn's gevent worker, answering the requests gunicorn itself refuses (limits below) as
# problem+json instead of an HTML page, and masking API keys in every log line (web/worker.py).
worker_class = "conversations_mock.web.worker.MockWorker"
worker_connections = 1000
# Build the app (and check settings and fixtures) once in the master, before forking.
preload_app = True
# Seconds a worker may spend silent before it is replaced; delays are capped well below it.
timeout = 90
graceful_timeout = 30
# Also the time a client has to send a request's line and headers (gevent workers read them under
# this timeout), so a client that opens many connections and sends slowly holds none for long.
keepalive = 5
# gunicorn's own limits, stated here because the README documents them: past them gunicorn answers
# 414 (request line) or 431 (headers) itself, as a problem document (web/worker.py).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
# Files (the /docs assets) are sent by iterating them, not by sendfile(): gunicorn's sendfile path
# never counts the bytes it sends, so the access log would say 0 for them.
sendfile = False
accesslog = "-"
# One line per request: method, path and query (percent-encoded, API keys masked), status, bytes,
# duration, request id and worker pid. web/safety.py puts the masked target in the environ.
access_log_format = (
    '%(h)s %(t)s "%(m)s %({mock.target}e)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s worker=%(p)s'
)
errorlog = "-"
loglevel = "info"
# gunicorn's lines for the moments `serve`'s banner and goodbye announce, at debug level (web/server_log.py).
logger_class = "conversations_mock.web.server_log.MockLogger"


def on_starting(server):
    """In the master, before the fork: make the app's message texts once, so every worker shares them."""
    import gc

    if server.cfg.preload_app:  # the app is built already; another app (the bench's floor) has no catalogue
        catalogue = getattr(server.app.wsgi(), "extensions", {}).get("catalogue")
        if catalogue is not None:
            from conversations_mock.data.platforms import ALL_LOCALES

            catalogue.pools.warm(ALL_LOCALES)
    # What the master built stays put: the workers' collector never walks (and so never copies) it.
    gc.freeze()


def post_request(worker, req, environ, resp):
    """After each answer, let the worker's other connections have a turn (gevent workers)."""
    # A greenlet yields only when a read would block, so a keep-alive client that sends its next
    # request at once is served again and again while the worker's other connections wait (p99
    # latency: docs/benchmarks.md). gevent.sleep(0) is not enough (greenlets that switched that way
    # ran again before sockets were polled); gevent.idle() waits until every pending event, ready
    # sockets included, has had its turn.
    from gunicorn.workers.ggevent import GeventWorker

    if isinstance(worker, GeventWorker):
        import gevent

        gevent.idle()
