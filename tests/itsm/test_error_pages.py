"""The site's own 404, 403 and 500 pages and its favicon (issue 17, defect 7)."""

import pytest
from django.test import RequestFactory
from django.urls import get_resolver

from itsm.views import errors
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

DEBUG_PAGE = ("Using the URLconf", "Django tried these URL patterns", "Raised by:", "technical_404")


@pytest.mark.parametrize("debug", [True, False])
def test_a_mistyped_address_shows_the_sites_own_404_page_never_the_url_patterns(client, customer, settings, debug):
    settings.DEBUG = debug
    client.force_login(customer)
    response = client.get("/portal/incidnets/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We can't find that page" in html
    assert 'class="site-nav"' in html  # the site's header, signed in
    for text in (*DEBUG_PAGE, "admin/", "api/"):
        assert text not in html, text


@pytest.mark.parametrize("debug", [True, False])
def test_a_record_the_customer_may_not_read_shows_the_same_404_page(client, customer, customer2, settings, debug):
    settings.DEBUG = debug
    theirs = make_incident(requester=customer2)
    client.force_login(customer)
    response = client.get(f"/portal/incidents/{theirs.pk}/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We can't find that page" in html
    for text in DEBUG_PAGE:
        assert text not in html, text


def test_a_missing_address_without_its_slash_is_still_redirected(client, agent, settings):
    settings.DEBUG = True
    client.force_login(agent)
    response = client.get("/desk/incidents")
    assert response.status_code == 301
    assert response["Location"] == "/desk/incidents/"


def test_the_403_page_is_in_the_sites_look(agent):
    request = RequestFactory().get("/desk/somewhere/")
    request.user = agent
    response = get_resolver().resolve_error_handler(403)(request, exception=None)
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not do this" in html and "ITSM administrator" in html
    assert 'class="site-nav"' in html


def test_the_500_page_needs_neither_the_request_context_nor_the_database(django_assert_num_queries):
    handler = get_resolver().resolve_error_handler(500)
    assert handler is errors.server_error
    with django_assert_num_queries(0):
        response = handler(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "/static/itsm/site.css" in html


def test_the_favicon_is_linked_from_every_page_and_answers_at_favicon_ico(client, customer):
    client.force_login(customer)
    assert '<link rel="icon" href="/static/itsm/favicon.svg" type="image/svg+xml">' in client.get("/portal/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
