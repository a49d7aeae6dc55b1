"""Structured logs: one line per request (``RequestLogMiddleware``), per background task
(django-q2's worker signals) and per slow query, as JSON in production (``LOG_FORMAT``).

Queries are counted and timed by one database execute wrapper put on every connection when it
opens; a request or task opens a *scope* (a context variable) that the wrapper adds to. A slow
query is logged with its SQL template only: parameters may hold personal data.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.utils.functional import empty

request_logger = logging.getLogger("itsm.request")
task_logger = logging.getLogger("itsm.task")
query_logger = logging.getLogger("itsm.slow_query")

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is passed through when it is a plain token (a UUID, a proxy's id):
# anything else (too long, spaces, control characters) is replaced, never logged.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")
SQL_MAX = 2000  # characters of a slow query's SQL template kept in the log line


@dataclass
class Scope:
    """What one request or task has done with the database so far."""

    request_id: str = ""
    queries: int = 0
    started: float = field(default_factory=lambda: time.perf_counter())  # read when the scope opens

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 1)


_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("itsm_log_scope", default=None)


def current_request_id() -> str:
    scope = _scope.get()
    return scope.request_id if scope else ""


def open_scope(request_id: str = "") -> contextvars.Token:
    return _scope.set(Scope(request_id=request_id))


def close_scope(token: contextvars.Token) -> Scope:
    scope = _scope.get()
    _scope.reset(token)
    return scope


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is sane, else a new one."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


# --- Queries --------------------------------------------------------------------------------


def count_and_time(execute, sql, params, many, context):
    """Execute wrapper: counts the query in the open scope; logs it when slower than
    ``SLOW_QUERY_MS`` (its SQL template, never the parameters)."""
    scope = _scope.get()
    if scope is not None:
        scope.queries += 1
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        took_ms = (time.perf_counter() - started) * 1000
        threshold = settings.SLOW_QUERY_MS
        if threshold and took_ms >= threshold:
            query_logger.warning(
                "slow query",
                extra={
                    "fields": {
                        "request_id": scope.request_id if scope else "",
                        "duration_ms": round(took_ms, 1),
                        "database": context["connection"].alias,
                        "sql": str(sql)[:SQL_MAX],
                    }
                },
            )


def watch_connection(sender, connection, **kwargs):
    """Put the wrapper on a connection once (a connection object keeps its wrappers across
    reconnects, and CONN_MAX_AGE=0 reconnects every request), first in the list: a
    ``connection.execute_wrapper()`` block open meanwhile pops the last one when it ends."""
    if count_and_time not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, count_and_time)


def install() -> None:
    """Called from ``ItsmConfig.ready``: every connection, opened now or later, is watched."""
    connection_created.connect(watch_connection, dispatch_uid="itsm.logging.watch_connection")
    for connection in connections.all(initialized_only=True):
        watch_connection(None, connection)
    connect_task_signals()


# --- Requests -------------------------------------------------------------------------------


REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def route_of(request) -> str:
    """The URL pattern that answered (``incidents/<int:pk>/``, ``api/v1/incidents/<pk>/`` for a
    DRF router's regex), never the raw path with its ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return REGEX_GROUP.sub(r"<\1>", match.route).replace("^", "").replace("$", "")
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return settings.STATIC_URL
    return "<unmatched>"


def user_id_of(request) -> int | None:
    """The signed-in user's id when the request looked it up (DRF sets it for a token); the
    log line never loads the user itself."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is None or wrapped is empty:  # a lazy user nobody evaluated
        return None
    return wrapped.pk if getattr(wrapped, "is_authenticated", False) else None


class RequestLogMiddleware:
    """One log line per request: request id (the caller's ``X-Request-ID`` when sane, echoed in
    the response), user id, method, route, status, duration and query count."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = open_scope(request_id)
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            scope = close_scope(token)
            level = logging.ERROR if status >= 500 else logging.INFO
            request_logger.log(
                level,
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "user_id": user_id_of(request),
                        "method": request.method,
                        "route": route_of(request),
                        "status": status,
                        "duration_ms": scope.elapsed_ms(),
                        "query_count": scope.queries,
                    }
                },
            )


# --- Background tasks -----------------------------------------------------------------------

_task_scopes: dict[str, contextvars.Token] = {}


def func_name(func) -> str:
    if isinstance(func, str):
        return func
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def task_started(sender, func, task, **kwargs):
    _task_scopes[task["id"]] = open_scope()


def task_finished(sender, func, task, **kwargs):
    token = _task_scopes.pop(task["id"], None)
    if token is None:
        return
    scope = close_scope(token)
    success = bool(task.get("success", False))
    task_logger.log(
        logging.INFO if success else logging.ERROR,
        "task",
        extra={
            "fields": {
                "task_id": task["id"],
                "task": func_name(func if func is not None else task.get("func")),
                "group": task.get("group"),
                "success": success,
                "duration_ms": scope.elapsed_ms(),
                "query_count": scope.queries,
            }
        },
    )


def connect_task_signals() -> None:
    from django_q.signals import post_execute_in_worker, pre_execute

    pre_execute.connect(task_started, dispatch_uid="itsm.logging.task_started")
    post_execute_in_worker.connect(task_finished, dispatch_uid="itsm.logging.task_finished")


# --- Formatting -----------------------------------------------------------------------------

PLAIN = (str, int, float, bool, type(None))
RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "fields"}


def record_fields(record: logging.LogRecord) -> dict:
    fields = dict(getattr(record, "fields", {}) or {})
    for key, value in vars(record).items():
        # Plain values another library passed as ``extra`` (Django's ``status_code``); never an
        # object such as Django's ``request``, whose text is the raw path with its query.
        if key not in RESERVED and not key.startswith("_") and isinstance(value, PLAIN):
            fields.setdefault(key, value)
    if "request_id" not in fields:
        request_id = current_request_id()
        if request_id:
            fields["request_id"] = request_id
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message and the record's fields."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a terminal: the usual line, then the fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = record_fields(record)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return text
