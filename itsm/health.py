"""``/healthz`` (the process answers) and ``/readyz`` (it can serve: the database answers, every
migration is applied, the Redis broker answers when one is configured), for load balancers and
orchestrators.

``HealthCheckMiddleware`` answers them first in the middleware chain: no host check (a probe
calls by address), no HTTPS redirect (probes talk plain HTTP to the process), no session, no
user, no request log line every few seconds. The bodies say ``ok`` or ``unavailable`` and
nothing else; why it is unavailable goes to the server's log.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse

logger = logging.getLogger("itsm.health")

HEALTH_PATHS = {"/healthz", "/healthz/"}
READY_PATHS = {"/readyz", "/readyz/"}
BROKER_TIMEOUT_SECONDS = 1.0

_migrations_applied = False  # once true, true for the life of the process
_broker = None


def ok() -> JsonResponse:
    return no_store(JsonResponse({"status": "ok"}))


def unavailable() -> JsonResponse:
    return no_store(JsonResponse({"status": "unavailable"}, status=503))


def no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def database_answers() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def migrations_applied() -> bool:
    """No migration left to apply. Loading the migration graph costs tens of milliseconds, so
    the answer is kept once it is yes (a process never un-applies a migration)."""
    global _migrations_applied
    if not _migrations_applied:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        _migrations_applied = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    return _migrations_applied


def broker_answers() -> None:
    global _broker
    if not settings.Q_BROKER:
        return
    if _broker is None:
        import redis

        _broker = redis.Redis.from_url(
            settings.Q_BROKER,
            socket_timeout=BROKER_TIMEOUT_SECONDS,
            socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        )
    _broker.ping()


def healthz(request) -> JsonResponse:
    return ok()


def readyz(request) -> JsonResponse:
    try:
        database_answers()
        if not migrations_applied():
            logger.warning("not ready: migrations are not all applied")
            return unavailable()
        broker_answers()
    except Exception as exc:  # any failure means "not ready", never a 500
        logger.warning("not ready: %s", exc.__class__.__name__, extra={"fields": {"error": str(exc)[:300]}})
        return unavailable()
    return ok()


class HealthCheckMiddleware:
    """Answers GET and HEAD on /healthz and /readyz before any other middleware runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path_info in HEALTH_PATHS:
                return healthz(request)
            if request.path_info in READY_PATHS:
                return readyz(request)
        return self.get_response(request)
