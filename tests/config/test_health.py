"""/healthz says the process answers; /readyz says it can serve (database, migrations, broker).
Both are cheap, open to anyone, and say nothing but ok or unavailable."""

import socket

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from itsm import health


@pytest.fixture(autouse=True)
def fresh_probe_state(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(health, "_broker", None)


def redis_reachable(host="127.0.0.1", port=6379) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def test_healthz_answers_ok_without_signing_in_or_touching_the_database(client):
    response = client.get("/healthz")  # no django_db mark: a query would fail the test
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "sessionid" not in response.cookies
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_answers_ok_when_the_database_answers_and_every_migration_is_applied(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_migrations_once_and_then_costs_one_query(client, django_assert_num_queries):
    client.get("/readyz")
    with django_assert_num_queries(1):  # SELECT 1
        assert client.get("/readyz/").status_code == 200


@pytest.mark.django_db
def test_readyz_is_unavailable_while_a_migration_is_not_applied(client):
    MigrationRecorder.Migration.objects.filter(app="itsm").order_by("-applied", "-id").first().delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_fails_and_says_nothing_about_it(client, monkeypatch):
    def refuse(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError('connection to server at "db.internal" (10.0.0.5) failed')

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b'{"status": "unavailable"}'


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_redis_broker_does_not_answer(client):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with override_settings(Q_BROKER=f"redis://127.0.0.1:{port}/0"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


@pytest.mark.django_db
@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379")
def test_readyz_pings_the_redis_broker_when_one_is_configured(client):
    with override_settings(Q_BROKER="redis://127.0.0.1:6379/15"):
        assert client.get("/readyz").status_code == 200


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["itsm.example.com"])
def test_probes_answer_over_plain_http_on_any_host_name(client):
    """A load balancer probes the process by its address, over HTTP."""
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert client.get("/login/", HTTP_HOST="itsm.example.com").status_code == 301  # the rest is redirected


def test_only_get_and_head_are_answered(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 404
