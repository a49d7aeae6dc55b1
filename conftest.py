"""Persona fixtures shared by every test module (SPEC §7 demo users, made fresh per test)."""

import os

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from itsm.models import Organisation, User, UserRole
from itsm.roles import PERSONAS, Persona

# In CI the property tests run the same examples every time (a failure is then reproducible,
# and a rare example cannot turn a green main red at random); locally they explore.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def make_user(username: str, *roles: str, organisation=None, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username=username,
        password="pw",
        email=f"{username}@example.com",
        organisation=organisation,
        is_superuser=superuser,
        is_staff=superuser,
    )
    UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in roles])
    return user


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as the migrations leave it, but with the journal's TRUNCATE trigger
    (itsm migration 0007) off: Django's flush after each transactional test empties every table
    with TRUNCATE. ``tests/itsm/test_audit.py`` switches it on inside a test to check it."""
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE itsm_auditentry DISABLE TRIGGER itsm_auditentry_no_truncate")


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(name="Acme")


@pytest.fixture
def other_organisation(db):
    return Organisation.objects.create(name="Globex")


@pytest.fixture
def customer(organisation):
    return make_user("customer", *PERSONAS[Persona.EVERYONE], organisation=organisation)


@pytest.fixture
def customer2(organisation):
    return make_user("customer2", *PERSONAS[Persona.EVERYONE], organisation=organisation)


@pytest.fixture
def l1(db):
    return make_user("l1", *PERSONAS[Persona.L1_AGENT])


@pytest.fixture
def agent(db):
    return make_user("agent", *PERSONAS[Persona.L2_AGENT])


@pytest.fixture
def lead(db):
    return make_user("lead", *PERSONAS[Persona.TEAM_LEADER])


@pytest.fixture
def manager(db):
    return make_user("manager", *PERSONAS[Persona.IT_SERVICE_MANAGER])


@pytest.fixture
def admin_user(db):
    return make_user("admin", superuser=True)


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` signs it in with a token."""

    class Client(APIClient):
        def as_user(self, user):
            self.force_authenticate(user=None)
            self.credentials()
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=user)
            self.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            return self

    return Client()


@pytest.fixture(scope="session", autouse=True)
def attachment_media_root(tmp_path_factory):
    """Files attached during the tests go to a temporary directory, never to ``var/media``."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield
