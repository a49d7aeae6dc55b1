import pytest

from conftest import make_user
from itsm.roles import PERSONAS, Persona

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_signs_in_through_the_login_page_and_lands_in_the_portal(page):
    make_user("casey", *PERSONAS[Persona.EVERYONE])
    page.goto("/login/")
    page.fill("input[name=username]", "casey")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/portal/")
    assert "Welcome back" in page.content()
    page.screenshot(path="/tmp/portal.png", full_page=True)
