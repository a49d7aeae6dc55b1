"""The signed-in user is read with its roles in one query (``itsm.auth``), by session and by API
token; roles stay as fresh as the request, and a session Django's ``ModelBackend`` signed in
before the upgrade stays signed in."""

from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_user
from itsm.auth import MODEL_BACKEND, USER_BACKEND, UserBackend
from itsm.models import User, UserRole
from itsm.roles import ALL_ROLES, PERSONAS, Persona, Role, closure, effective_roles

pytestmark = pytest.mark.django_db

BADGE = reverse("desk:notifications-badge")  # a small page: who is signed in, then one count
INCIDENTS = "/api/v1/incidents/"


def roles_on(response) -> frozenset[str]:
    """The effective roles the request's user carried, without reading them again."""
    user = response.wsgi_request.user
    with CaptureQueriesContext(connection) as captured:
        roles = effective_roles(user)
    assert not captured.captured_queries
    return roles


def reads_of_the_roles_alone(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "itsm_userrole"')]


def test_a_signed_in_page_reads_the_session_then_the_user_with_its_roles(
    client, agent, django_assert_num_queries
):
    client.force_login(agent)
    client.get(BADGE)
    # The session, the user with its roles, the unread count: the roles were a query of their own.
    with django_assert_num_queries(3) as captured:
        response = client.get(BADGE)
    assert response.status_code == 200
    session, user, _count = (q["sql"] for q in captured.captured_queries)
    assert "django_session" in session
    assert user.startswith("SELECT") and '"itsm_user"' in user and '"itsm_userrole"' in user
    assert roles_on(response) == closure(PERSONAS[Persona.L2_AGENT])


def test_a_role_granted_or_revoked_is_seen_on_the_next_request(client, customer):
    client.force_login(customer)
    assert Role.ITSM_AGENT not in roles_on(client.get(BADGE))
    UserRole.objects.create(user=customer, role=Role.ITSM_MANAGER)
    assert {Role.ITSM_MANAGER, Role.ITSM_AGENT} <= roles_on(client.get(BADGE))
    UserRole.objects.filter(user=customer, role=Role.ITSM_MANAGER).delete()
    assert roles_on(client.get(BADGE)) == {Role.PLATFORM_SELFSERVICE}
    UserRole.objects.filter(user=customer).delete()
    assert roles_on(client.get(BADGE)) == frozenset()


def test_a_superuser_holds_every_role_whatever_its_grants(client, admin_user):
    client.force_login(admin_user)
    assert roles_on(client.get(BADGE)) == ALL_ROLES


def test_an_inactive_user_is_signed_out_as_with_djangos_backend(client, agent):
    client.force_login(agent)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get(reverse("desk:incident-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not response.wsgi_request.user.is_authenticated
    assert UserBackend().get_user(agent.pk) is None


def test_a_session_signed_in_by_djangos_model_backend_stays_signed_in_and_moves_over(
    client, agent, django_assert_num_queries
):
    client.force_login(agent, backend=MODEL_BACKEND)  # as every session made before the upgrade
    assert client.session[BACKEND_SESSION_KEY] == MODEL_BACKEND
    with CaptureQueriesContext(connection) as first:
        response = client.get(BADGE)
    assert response.status_code == 200 and response.wsgi_request.user.pk == agent.pk
    assert Role.ITSM_AGENT in roles_on(response) and not reads_of_the_roles_alone(first)
    assert client.session[BACKEND_SESSION_KEY] == USER_BACKEND  # written once, with the response
    with django_assert_num_queries(3):  # then as any other session: no write
        assert client.get(BADGE).status_code == 200


def test_a_session_of_a_backend_no_longer_listed_is_still_signed_out(client, agent):
    client.force_login(agent, backend="django.contrib.auth.backends.RemoteUserBackend")
    response = client.get(reverse("desk:incident-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_signing_in_with_the_form_records_the_user_backend_and_checks_a_password_once(client, agent):
    check = mock.patch.object(User, "check_password", autospec=True, side_effect=User.check_password)
    with check as checked:
        refused = client.post(reverse("login"), {"username": "agent", "password": "wrong"})
    assert refused.status_code == 200 and checked.call_count == 1  # not once more per listed backend
    response = client.post(reverse("login"), {"username": "agent", "password": "pw"})
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == USER_BACKEND
    assert Role.ITSM_AGENT in roles_on(client.get(BADGE))


def test_changing_ones_password_in_the_admin_keeps_the_session(client, admin_user):
    assert client.post(reverse("admin:login"), {"username": "admin", "password": "pw"}).status_code == 302
    response = client.post(
        reverse("admin:password_change"),
        {
            "old_password": "pw",
            "new_password1": "Longer-passphrase-42",
            "new_password2": "Longer-passphrase-42",
        },
    )
    assert response.status_code == 302
    after = client.get(BADGE)
    assert after.status_code == 200 and after.wsgi_request.user.pk == admin_user.pk
    assert roles_on(after) == ALL_ROLES


def test_an_api_token_is_read_with_its_user_and_the_users_roles_in_one_query(api, agent):
    client = api.as_user(agent)
    client.get(INCIDENTS)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(INCIDENTS)
    assert response.status_code == 200
    token = captured.captured_queries[0]["sql"]
    assert '"authtoken_token"' in token and '"itsm_user"' in token and '"itsm_userrole"' in token
    assert not reads_of_the_roles_alone(captured)
    assert Role.ITSM_AGENT in roles_on(response)


def test_an_api_token_sees_a_revoked_role_on_the_next_call_and_an_inactive_user_is_refused(api, l1):
    client = api.as_user(l1)
    assert client.get(INCIDENTS).status_code == 200
    UserRole.objects.filter(user=l1).exclude(role=Role.PLATFORM_SELFSERVICE).delete()
    assert Role.ITSM_AGENT not in roles_on(client.get(INCIDENTS))
    User.objects.filter(pk=l1.pk).update(is_active=False)
    # 403, not 401: DRF asks the first authentication class, the session's, for a challenge.
    assert client.get(INCIDENTS).status_code == 403


@pytest.mark.django_db(transaction=True)  # the async read runs in another thread
def test_the_async_read_brings_the_roles_too():
    user = make_user("pat", Role.ITSM_AGENT)
    signed_in = async_to_sync(UserBackend().aget_user)(user.pk)
    assert signed_in.pk == user.pk
    assert signed_in._itsm_effective_roles == closure([Role.ITSM_AGENT])
