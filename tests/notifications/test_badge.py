"""The navigation's unread count refreshes itself (issue 17, item 14): desk pages re-fetch
``/desk/notifications/badge/``, which answers the badge alone — one's own unread notifications,
for signed-in desk users only, in one query of its own."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification

pytestmark = pytest.mark.django_db

BADGE = reverse("desk:notifications-badge")


def notify(recipient, n: int, *, read=False):
    Notification.objects.bulk_create(
        Notification(
            recipient=recipient,
            kind="sla_breached",
            subject=f"Breach {i}",
            body="Body",
            read_at=timezone.now() if read else None,
        )
        for i in range(n)
    )


def test_the_badge_needs_signing_in(client, agent):
    notify(agent, 2)
    response = client.get(BADGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_badge_counts_only_ones_own_unread_notifications(client, agent, lead):
    notify(agent, 3)
    notify(agent, 4, read=True)
    notify(lead, 5)
    client.force_login(agent)
    response = client.get(BADGE)
    assert response.status_code == 200
    assert response.content.decode().strip() == (
        '<span class="nav-count">3<span class="visually-hidden"> unread</span></span>'
    )
    assert response["Cache-Control"] == "no-store"


def test_the_badge_is_empty_with_nothing_unread(client, agent):
    notify(agent, 2, read=True)
    client.force_login(agent)
    assert client.get(BADGE).content.decode().strip() == ""


def test_the_badge_says_99_plus_past_99(client, agent):
    notify(agent, 130)
    client.force_login(agent)
    assert ">99+<" in client.get(BADGE).content.decode()


def test_a_customer_has_no_badge(client, customer):
    """A customer has no desk navigation: nothing is counted or shown."""
    notify(customer, 2)
    client.force_login(customer)
    response = client.get(BADGE)
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_desk_pages_refresh_the_badge_from_it(client, agent):
    notify(agent, 1)
    client.force_login(agent)
    html = client.get(reverse("desk:home")).content.decode()
    assert (
        f'<span id="nav-unread" hx-get="{BADGE}" hx-trigger="every 45s" hx-swap="innerHTML"> '
        '<span class="nav-count">1<span class="visually-hidden"> unread</span></span>'
    ) in html


def test_the_badge_costs_one_query_of_its_own(client, agent, django_assert_max_num_queries):
    notify(agent, 30)
    client.force_login(agent)
    client.get(BADGE)
    # Session, user with its roles (as every page), then the count.
    with django_assert_max_num_queries(3) as captured:
        assert client.get(BADGE).status_code == 200
    counted = [q["sql"] for q in captured.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counted) == 1
