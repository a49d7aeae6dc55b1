"""Structured logs: one line per request and per background task, slow queries without their
parameters, and the request id passed through (itsm.logging)."""

import json
import logging
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_q.tasks import async_task

from itsm import logging as itsm_logging
from itsm.errors import InvalidInput
from itsm.logging import JsonFormatter, TextFormatter
from tests.incidents.factories import make_incident


def lines(caplog, logger):
    return [record for record in caplog.records if record.name == logger]


QUERY_MS = 40


@pytest.fixture
def clock(monkeypatch):
    """``itsm.logging``'s clock stands still except while a query runs, which takes 40 ms: a
    logged duration is then known exactly (the time of the queries it covers)."""
    now = [1000.0]
    monkeypatch.setattr(itsm_logging, "time", SimpleNamespace(perf_counter=lambda: now[0]))

    def slow(execute, sql, params, many, context):
        now[0] += QUERY_MS / 1000
        return execute(sql, params, many, context)

    with connection.execute_wrapper(slow):
        yield now


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer, short_description="VPN drops every hour")


def test_each_request_is_one_line_with_route_user_status_duration_and_query_count(
    api, agent, incident, caplog, clock
):
    api.as_user(agent)
    caplog.set_level(logging.INFO, logger="itsm.request")
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/v1/incidents/{incident.pk}/")
    assert response.status_code == 200
    [line] = lines(caplog, "itsm.request")
    fields = line.fields
    assert fields["route"] == "api/v1/incidents/<pk>/"
    assert fields["user_id"] == agent.pk
    assert fields["method"] == "GET"
    assert fields["status"] == 200
    assert fields["query_count"] == len(queries)
    assert fields["duration_ms"] == pytest.approx(QUERY_MS * len(queries))  # the request's own time
    assert fields["request_id"] == response["X-Request-ID"]


def test_a_desk_page_names_its_url_pattern_not_the_record(client, agent, incident, caplog):
    client.force_login(agent)
    caplog.set_level(logging.INFO, logger="itsm.request")
    assert client.get(f"/desk/incidents/{incident.pk}/").status_code == 200
    [line] = lines(caplog, "itsm.request")
    assert line.fields["route"] == "desk/incidents/<int:pk>/"
    assert line.fields["user_id"] == agent.pk


def test_a_sane_request_id_is_passed_through_and_echoed(client, caplog):
    caplog.set_level(logging.INFO, logger="itsm.request")
    response = client.get("/login/", HTTP_X_REQUEST_ID="lb-4f1c9a2e-77")
    assert response["X-Request-ID"] == "lb-4f1c9a2e-77"
    assert lines(caplog, "itsm.request")[0].fields["request_id"] == "lb-4f1c9a2e-77"


@pytest.mark.parametrize("bad", ["has spaces", "x" * 200, "<script>", "new\nline"])
def test_an_unsafe_request_id_is_replaced_and_never_logged(client, caplog, bad):
    caplog.set_level(logging.INFO, logger="itsm.request")
    response = client.get("/login/", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32
    assert bad not in caplog.text


def test_an_anonymous_request_has_no_user_and_an_unknown_path_no_route(client, caplog):
    caplog.set_level(logging.INFO, logger="itsm.request")
    client.get("/no/such/page/123456/")
    [line] = lines(caplog, "itsm.request")
    assert line.fields["user_id"] is None
    assert line.fields["route"] == "<unmatched>"
    assert line.fields["status"] == 404


@pytest.mark.django_db
def test_slow_queries_are_logged_with_their_sql_and_never_their_parameters(client, caplog, clock):
    caplog.set_level(logging.WARNING, logger="itsm.slow_query")
    with override_settings(SLOW_QUERY_MS=QUERY_MS - 1), connection.cursor() as cursor:
        cursor.execute("SELECT %s", ["secret-customer@example.com"])
    [line] = lines(caplog, "itsm.slow_query")
    assert line.fields["sql"] == "SELECT %s"
    assert "secret-customer" not in caplog.text
    assert line.fields["duration_ms"] == pytest.approx(QUERY_MS)


@pytest.mark.django_db
def test_fast_queries_are_not_logged(caplog):
    caplog.set_level(logging.WARNING, logger="itsm.slow_query")
    with override_settings(SLOW_QUERY_MS=60_000), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert not lines(caplog, "itsm.slow_query")


@pytest.mark.django_db
def test_each_background_task_is_one_line_with_name_duration_and_success(caplog, clock):
    caplog.set_level(logging.INFO, logger="itsm.task")
    async_task("incidents.tasks.auto_close", sync=True)
    [line] = lines(caplog, "itsm.task")
    assert line.fields["task"] == "incidents.tasks.auto_close"
    assert line.fields["success"] is True
    assert line.fields["query_count"] >= 1
    assert line.fields["duration_ms"] == pytest.approx(QUERY_MS * line.fields["query_count"])
    assert line.levelno == logging.INFO


@pytest.mark.django_db
def test_a_failed_background_task_is_logged_as_an_error(caplog):
    caplog.set_level(logging.INFO, logger="itsm.task")
    with pytest.raises(InvalidInput):
        async_task("incidents.tasks.auto_close", stale_hours="soon", sync=True)
    [line] = lines(caplog, "itsm.task")
    assert line.fields["success"] is False
    assert line.levelno == logging.ERROR


def test_the_json_format_is_one_object_per_line_with_the_fields():
    record = logging.LogRecord("itsm.request", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"request_id": "abc", "status": 201, "route": "api/v1/incidents/"}
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "request"
    assert data["level"] == "INFO"
    assert data["logger"] == "itsm.request"
    assert data["status"] == 201
    assert data["time"].endswith("Z")


def test_the_text_format_puts_the_fields_after_the_message():
    record = logging.LogRecord("itsm.request", logging.INFO, __file__, 1, "request", (), None)
    record.fields = {"status": 201}
    assert TextFormatter("%(message)s").format(record) == "request status=201"


def test_objects_passed_as_log_extras_are_left_out_of_the_line(rf):
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), None)
    record.status_code = 500
    record.request = rf.get("/portal/?search=jane.doe@example.com")
    data = json.loads(JsonFormatter().format(record))
    assert data["status_code"] == 500
    assert "jane.doe" not in json.dumps(data)
