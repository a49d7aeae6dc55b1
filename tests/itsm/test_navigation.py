"""The main navigation marks the item the page belongs to (``aria-current="page"``): a door's
home only on itself, any other item on every page below its address."""

import re

import pytest

from itsm import policy
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


def nav_links(html: str) -> list[tuple[str, str]]:
    nav = CURRENT.search(html).group(0)
    return [(label.strip(), href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)<', nav)]


DESK = [
    ("Desk", "/desk/"), ("Incidents", "/desk/incidents/"), ("Problems", "/desk/problems/"),
    ("Changes", "/desk/changes/"), ("Requests", "/desk/requests/"),
]  # fmt: skip
PORTAL = [("Portal", "/portal/"), ("My incidents", "/portal/incidents/")]


@pytest.mark.parametrize("who", ["customer", "agent", "manager", "admin_user"])
def test_the_header_offers_each_door_the_reader_may_use_and_no_other(db, client, request, who):
    """The links come from the policy (the context processors' flags): a customer sees the
    portal's only; desk staff the desk's first, then the portal's; Admin to those the policy lets in."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    links = nav_links(client.get("/portal/").content.decode())
    labels = [label for label, _ in links]
    if who == "customer":
        assert labels[:2] == ["Portal", "My incidents"]
        assert not {"Desk", "Incidents", "On call", "Notifications", "API docs", "Admin"} & set(labels)
        return
    assert links[:2] == DESK[:2] and set(PORTAL) <= set(links)
    assert labels.index("Notifications") < labels.index("Portal") < labels.index("API docs")
    assert ("Admin" in labels) == policy.has_permission(user, "admin.access")
    assert len(labels) == len(set(href for _, href in links))  # no address twice
