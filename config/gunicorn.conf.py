"""gunicorn's settings for the production path (README "Production"):
``gunicorn -c config/gunicorn.conf.py``. Everything a deployment changes comes from the
environment, like the Django settings."""

import multiprocessing
import os

wsgi_app = "config.wsgi:application"
bind = os.environ.get("BIND", "127.0.0.1:8000").split(",")
# Sync workers: each request holds one database connection for its whole life; two per core
# and one more is gunicorn's advice. WEB_THREADS > 1 makes them threaded workers.
workers = int(os.environ.get("WEB_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then (jittered, so not all at once) to cap slow memory growth.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# No access log: itsm.logging.RequestLogMiddleware writes one JSON line per request already.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The proxy addresses whose X-Forwarded-* headers gunicorn believes (for wsgi.url_scheme);
# Django's own trust is BEHIND_TLS_PROXY and TRUSTED_PROXY_COUNT.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "itsm-web"
