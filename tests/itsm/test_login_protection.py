"""Sign-in and API protection: failed sign-ins are limited per user name and per address
(django-axes), API calls per token, sessions expire, and weak passwords are refused."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import override_settings

from conftest import make_user
from itsm.api import throttling
from itsm.roles import Role

LOCKED = "Too many failed sign-ins"

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(client, username, password, address="10.0.0.1", path="/login/", **headers):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_user_name_is_locked_after_too_many_failures_from_any_address(client, agent, axes_on):
    for n in range(2):
        assert sign_in(client, "agent", "wrong", address=f"10.0.0.{n + 1}").status_code == 200
    assert sign_in(client, "agent", "wrong", address="10.0.0.3").status_code == 429  # the third locks
    response = sign_in(client, "agent", "pw", address="10.9.9.9")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "try again in 15 minutes" in response.content.decode()
    assert not signed_in(client)


def test_an_address_is_locked_after_too_many_failures_for_any_user_name(client, agent, axes_on):
    for name in ("alice", "bob", "carol"):
        sign_in(client, name, "guess", address="10.0.0.5")
    assert sign_in(client, "agent", "pw", address="10.0.0.5").status_code == 429
    assert not signed_in(client)
    assert sign_in(client, "agent", "pw", address="10.0.0.6").status_code == 302
    assert signed_in(client)


def test_below_the_limit_a_mistyped_password_is_just_wrong(client, agent, axes_on):
    response = sign_in(client, "agent", "wrong")
    assert response.status_code == 200
    assert "didn&#x27;t match" in response.content.decode()
    assert LOCKED not in response.content.decode()


def test_a_success_clears_the_failures_before_it(client, agent, axes_on):
    sign_in(client, "agent", "wrong")
    sign_in(client, "agent", "wrong")
    assert sign_in(client, "agent", "pw").status_code == 302
    client.logout()
    sign_in(client, "agent", "wrong")
    sign_in(client, "agent", "wrong")
    assert sign_in(client, "agent", "pw").status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, agent, axes_on):
    for _ in range(3):
        sign_in(client, "agent", "wrong")
    assert sign_in(client, "agent", "pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert sign_in(client, "agent", "pw").status_code == 302


def test_the_admin_sign_in_shares_the_lock(client, admin_user, axes_on):
    for _ in range(3):
        sign_in(client, "admin", "wrong", path="/admin/login/")
    response = sign_in(client, "admin", "pw", path="/admin/login/")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()


def test_a_forged_forwarded_for_header_does_not_give_a_fresh_address(client, agent, axes_on, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(3):
        sign_in(client, f"user{n}", "guess", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert sign_in(client, "agent", "pw", HTTP_X_FORWARDED_FOR="192.0.2.77").status_code == 429


def test_behind_a_trusted_proxy_each_client_address_counts_on_its_own(client, agent, axes_on, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(3):
        sign_in(client, f"user{n}", "guess", address="10.0.0.254", HTTP_X_FORWARDED_FOR="192.0.2.1")
    assert (
        sign_in(client, "agent", "pw", address="10.0.0.254", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code
        == 429
    )
    assert (
        sign_in(client, "agent", "pw", address="10.0.0.254", HTTP_X_FORWARDED_FOR="192.0.2.2").status_code
        == 302
    )


# --- API rates --------------------------------------------------------------------------------


@pytest.fixture
def rates(settings, monkeypatch):
    cache.clear()
    settings.API_THROTTLE_RATES = {"user": "3/min", "anon": "2/min", "events": "5/min"}
    # The windows are fixed minutes: the test's requests stay in one (at 30 s past a minute),
    # however long they take, or a test crossing a minute would see its count start again.
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    yield
    cache.clear()


def test_each_token_has_its_own_api_rate(api, agent, lead, rates):
    api.as_user(agent)
    for _ in range(3):
        assert api.get("/api/v1/me/").status_code == 200
    response = api.get("/api/v1/me/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"]
    api.as_user(lead)
    assert api.get("/api/v1/me/").status_code == 200


def test_alert_ingestion_has_its_own_rate_for_storms(api, rates):
    monitor = make_user("monitoring", Role.ITSM_AGENT)
    api.as_user(monitor)
    statuses = [
        api.post(
            "/api/v1/events/",
            {"source": "prometheus", "rule": "DiskFull", "host": f"web{n:02d}", "severity": "minor",
             "message": "/var is full", "fingerprint": f"disk-web{n:02d}"},
            format="json",
        ).status_code
        for n in range(6)
    ]  # fmt: skip
    assert statuses == [201] * 5 + [429]
    assert api.get("/api/v1/me/").status_code == 200  # the user rate is untouched


def test_no_rate_means_no_limit(api, agent, settings):
    cache.clear()
    settings.API_THROTTLE_RATES = {"user": None, "anon": None, "events": None}
    api.as_user(agent)
    assert all(api.get("/api/v1/me/").status_code == 200 for _ in range(5))


# --- Sessions and passwords -------------------------------------------------------------------


@override_settings(SESSION_COOKIE_AGE=3600)
def test_a_session_lasts_the_configured_age(client, agent):
    response = sign_in(client, "agent", "pw")
    assert response.cookies["sessionid"]["max-age"] == 3600


def test_an_expired_session_is_signed_out(client, agent):
    sign_in(client, "agent", "pw")
    assert client.get("/desk/").status_code == 200
    Session.objects.update(expire_date=F("expire_date") - timedelta(hours=13))
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sessions_end_after_twelve_hours_by_default(client, agent):
    """With the default settings, a session 11 h 59 min old still works; one 12 h 1 min old is
    signed out (the session's age is moved back, as the clock would move forward)."""
    sign_in(client, "agent", "pw")
    Session.objects.update(expire_date=F("expire_date") - timedelta(hours=11, minutes=59))
    assert client.get("/desk/").status_code == 200
    Session.objects.update(expire_date=F("expire_date") - timedelta(minutes=2))
    response = client.get("/desk/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("x7#Qp", "too short"),
        ("password123", "too common"),
        ("4815162342", "entirely numeric"),
        ("alice.smith", "too similar"),
    ],
)
def test_weak_passwords_are_refused(password, why):
    user = make_user("alice.smith")
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, user)
    assert why in " ".join(refused.value.messages)


def test_a_strong_password_is_accepted():
    password_validation.validate_password("violet-harbour-lantern-42", make_user("alice.smith"))
