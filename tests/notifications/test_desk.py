"""The desk's notification page: one's own notifications only, newest first, paginated, unread
ones highlighted and counted in the navigation, marked read one by one or all at once."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents import services
from notifications.models import Notification

pytestmark = pytest.mark.django_db

PAGE = reverse("desk:notifications")
READ_ALL = reverse("desk:notifications-read-all")


def read_url(notification):
    return reverse("desk:notification-read", args=[notification.pk])


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", unescape(response.content.decode())).split())


def notify(recipient, subject, *, work=None, minutes_ago=0, read=False):
    notification = Notification.objects.create(
        recipient=recipient,
        kind="sla_breached",
        work=work,
        subject=subject,
        body="Body",
        read_at=timezone.now() if read else None,
    )
    if minutes_ago:
        Notification.objects.filter(pk=notification.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes_ago)
        )
    return notification


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def test_the_page_lists_only_ones_own_notifications_newest_first_with_links(desk, agent, lead, customer):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer"})
    notify(agent, "Older one", minutes_ago=30)
    notify(agent, "Newer one", work=incident, minutes_ago=1)
    notify(lead, "The lead's own")
    response = desk.get(PAGE)
    assert response.status_code == 200
    subjects = [row["notification"].subject for row in response.context["rows"]]
    assert subjects == ["Newer one", "Older one"]
    html = response.content.decode()
    assert "The lead's own" not in html
    assert reverse("desk:incident-detail", args=[incident.pk]) in html


def test_unread_notifications_are_highlighted_and_counted_in_the_navigation(desk, agent):
    notify(agent, "Unread one")
    notify(agent, "Already read", read=True)
    response = desk.get(reverse("desk:home"))
    assert 'class="nav-count">1<' in response.content.decode()
    page = desk.get(PAGE)
    html = page.content.decode()
    assert html.count("desk-notification-unread") == 1
    assert "1 unread of 2" in text_of(page)


def test_mark_read_marks_only_that_notification(desk, agent):
    first = notify(agent, "First")
    second = notify(agent, "Second")
    response = desk.post(read_url(first), {"page": "1"})
    assert response.status_code == 302 and response["Location"] == f"{PAGE}?page=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_nobody_marks_someone_elses_notification_read(desk, lead):
    theirs = notify(lead, "Not yours")
    assert desk.post(read_url(theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_every_own_unread_notification_and_nobody_elses(desk, agent, lead):
    mine = [notify(agent, f"Mine {n}") for n in range(3)]
    theirs = notify(lead, "Theirs")
    response = desk.post(READ_ALL, follow=True)
    assert "Marked 3 notifications read." in text_of(response)
    assert all(n.read_at for n in Notification.objects.filter(pk__in=[m.pk for m in mine]))
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "nav-count" not in response.content.decode()
    assert "Mark all read" not in response.content.decode()


def test_mark_read_takes_post_only(desk, agent):
    notification = notify(agent, "One")
    assert desk.get(read_url(notification)).status_code == 405
    assert desk.get(READ_ALL).status_code == 405


def test_the_list_is_paginated(desk, agent):
    for n in range(30):
        notify(agent, f"Notice {n}", minutes_ago=n)
    first = desk.get(PAGE)
    assert len(first.context["rows"]) == 25
    second = desk.get(PAGE, {"page": 2})
    assert [row["notification"].subject for row in second.context["rows"]] == [
        f"Notice {n}" for n in range(25, 30)
    ]


def test_customers_are_refused_the_desk_notification_page(client, customer):
    client.force_login(customer)
    assert client.get(PAGE).status_code == 403
    assert client.post(READ_ALL).status_code == 403


def test_an_empty_list_says_what_will_appear(desk):
    assert "You have no notifications." in text_of(desk.get(PAGE))


def test_the_page_query_count_is_the_same_for_3_and_30_notifications(
    desk, agent, customer, django_assert_max_num_queries
):
    incident = services.incident_create(actor=customer, data={"short_description": "Printer"})

    def count():
        desk.get(PAGE)
        # Session, user with its roles, the page's count and rows (with their work), and the
        # navigation's unread count.
        with django_assert_max_num_queries(5) as captured:
            assert desk.get(PAGE).status_code == 200
        return len(captured)

    for n in range(3):
        notify(agent, f"Few {n}", work=incident)
    few = count()
    for n in range(27):
        notify(agent, f"Many {n}", work=incident)
    assert count() == few


def test_the_unread_count_costs_one_query_and_none_for_customers(
    client, agent, customer, django_assert_max_num_queries
):
    def notification_queries(user, url):
        client.force_login(user)
        client.get(url)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        return [q for q in captured.captured_queries if "notifications_notification" in q["sql"]]

    assert len(notification_queries(agent, reverse("desk:home"))) == 1
    # A customer has no desk navigation, so its count is never asked for.
    assert notification_queries(customer, reverse("portal:home")) == []


def test_more_than_99_unread_show_as_99_plus_counted_no_further(client, agent, django_assert_max_num_queries):
    Notification.objects.bulk_create(
        Notification(recipient=agent, kind="sla_breached", subject=f"Breach {n}", body="Body")
        for n in range(130)
    )
    client.force_login(agent)
    page = client.get(PAGE).content.decode()
    assert '<span class="nav-count">99+<span class="visually-hidden"> unread</span></span>' in page
    assert "more than 99 unread of 130" in text_of(client.get(PAGE))
    with django_assert_max_num_queries(20) as captured:
        client.get(reverse("desk:home"))
    (count,) = [q["sql"] for q in captured.captured_queries if "notifications_notification" in q["sql"]]
    assert "LIMIT 100" in count
