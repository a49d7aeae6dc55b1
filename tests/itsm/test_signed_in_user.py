"""``request.user`` is the signed-in user itself (``itsm.middleware.SignedInUserMiddleware``), not
Django's lazy stand-in: the policy reads it a hundred times a page."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

from itsm.models import User

pytestmark = pytest.mark.django_db


def test_a_signed_in_request_carries_the_user_object_itself(client, agent):
    client.force_login(agent)
    response = client.get("/desk/incidents/")
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert type(user) is User and not isinstance(user, SimpleLazyObject)
    assert user.pk == agent.pk


def test_a_request_without_a_session_reads_no_user_row(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/login/")
    assert response.status_code == 200
    assert isinstance(response.wsgi_request.user, AnonymousUser)
    read = [query["sql"] for query in captured.captured_queries]
    assert not [sql for sql in read if "django_session" in sql or '"itsm_user"' in sql]


def test_a_signed_out_visitor_is_still_sent_to_sign_in(client):
    response = client.get("/desk/incidents/")
    assert response.status_code == 302 and "/login/" in response["Location"]
