"""The main navigation marks the item the page belongs to (``aria-current="page"``): a door's
home only on itself, any other item on every page below its address."""

import re

import pytest

from tests.incidents.factories import make_incident

CURRENT = re.compile(r'<nav class="site-nav".*?</nav>', re.S)


def current_items(html: str) -> list[str]:
    nav = CURRENT.search(html).group(0)
    return re.findall(r'aria-current="page">([^<]+)<', nav)


@pytest.mark.parametrize(
    ("path", "item"),
    [
        ("/desk/", "Desk"),
        ("/desk/incidents/", "Incidents"),
        ("/desk/problems/", "Problems"),
        ("/desk/changes/", "Changes"),
        ("/desk/changes/calendar/", "Changes"),
        ("/desk/knowledge/", "Knowledge"),
        ("/desk/notifications/", "Notifications"),
        ("/portal/", "Portal"),
        ("/portal/incidents/", "My incidents"),
    ],
)
def test_the_navigation_marks_the_section_of_the_page_and_only_it(client, manager, path, item):
    client.force_login(manager)
    response = client.get(path)
    assert response.status_code == 200, path
    assert current_items(response.content.decode()) == [item]


def test_a_record_page_marks_its_section(client, manager, customer):
    incident = make_incident(requester=customer)
    client.force_login(manager)
    html = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert current_items(html) == ["Incidents"]
    client.force_login(customer)
    html = client.get(f"/portal/incidents/{incident.pk}/").content.decode()
    assert current_items(html) == ["My incidents"]
