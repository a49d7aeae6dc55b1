"""The change calendar's questions (issue 14 item 7): which freeze covers a window, which changes
clash on the same hosts, and what the calendar shows between two dates (at most 366 days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from changes import schedule, workflows
from itsm.errors import InvalidInput
from tests.changes.factories import (
    approved_change,
    in_progress_change,
    make_change,
    make_freeze,
    make_group,
    make_hosts,
    make_window,
    rejected_change,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2027, 3, 1, 22, tzinfo=UTC)  # a Monday night, far enough ahead for any notice


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def planned(start: float, end: float | None) -> dict:
    return {"planned_start": hours(start), "planned_end": hours(end) if end is not None else None}


# --- Freezes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "covered"), [
    (0, 2, True),  # inside
    (-1, 1, True),  # over its start
    (1, 5, True),  # over its end
    (-5, 10, True),  # around it
    (-2, 0, False),  # ends as it starts
    (4, 6, False),  # starts as it ends
    (2, None, True),  # an instant inside
    (4, None, False),  # the instant it ends
])  # fmt: skip
def test_a_freeze_covers_the_windows_that_overlap_it(start, end, covered):
    freeze = make_freeze(start=hours(0), end=hours(4))
    found = schedule.freeze_covering(hours(start), hours(end) if end is not None else None)
    assert (found == freeze) is covered


def test_no_start_no_freeze():
    make_freeze(start=hours(0), end=hours(4))
    assert schedule.freeze_covering(None, None) is None


# --- Conflicts --------------------------------------------------------------------------------


def test_changes_on_the_same_host_in_overlapping_windows_conflict(agent):
    host = make_hosts(1)
    change = make_change(by=agent, hosts=host, **planned(0, 4))
    clash = make_change(by=agent, hosts=host, **planned(3, 6))
    later = make_change(by=agent, hosts=host, **planned(4, 6))  # starts as it ends
    elsewhere = make_change(by=agent, hosts=make_hosts(1, prefix="other"), **planned(0, 4))
    assert schedule.conflicts(change) == [clash]
    assert schedule.conflicts(clash) == [change, later]
    assert schedule.conflicts(elsewhere) == []


def test_a_host_shared_through_a_host_group_conflicts(agent):
    group = make_group("Web", hosts=2)
    host = list(group.hosts.all())[:1]
    by_group = make_change(by=agent, host_groups=[group], **planned(0, 4))
    by_host = make_change(by=agent, hosts=host, **planned(1, 2))
    assert schedule.conflicts(by_group) == [by_host]
    assert schedule.conflicts(by_host) == [by_group]


def test_two_changes_naming_the_same_group_conflict_even_without_hosts(agent):
    group = make_group("Empty")
    one = make_change(by=agent, host_groups=[group], **planned(0, 4))
    two = make_change(by=agent, host_groups=[group], **planned(1, 2))
    assert schedule.conflicts(one) == [two]


def test_different_hosts_of_one_group_do_not_conflict(agent):
    group = make_group("Web", hosts=2)
    first, second = group.hosts.all()
    one = make_change(by=agent, hosts=[first], **planned(0, 4))
    make_change(by=agent, hosts=[second], **planned(0, 4))
    assert schedule.conflicts(one) == []


def test_a_change_with_only_a_start_conflicts_at_that_instant(agent):
    host = make_hosts(1)
    change = make_change(by=agent, hosts=host, **planned(0, 4))
    instant = make_change(by=agent, hosts=host, **planned(2, None))
    assert schedule.conflicts(change) == [instant]
    assert schedule.conflicts(instant) == [change]


def test_closed_cancelled_and_rejected_changes_do_not_conflict(agent, lead):
    host = make_hosts(1)
    change = make_change(by=agent, hosts=host, **planned(0, 4))
    closed = workflows.change_complete(change=in_progress_change(by=agent, approver=lead, hosts=host, **planned(0, 4)),
                                       actor=agent)  # fmt: skip
    cancelled = workflows.change_cancel(change=make_change(by=agent, hosts=host, **planned(0, 4)), actor=agent)
    rejected = rejected_change(by=agent, approver=lead, hosts=host, **planned(0, 4))
    approved = approved_change(by=agent, approver=lead, hosts=host, **planned(1, 3))
    assert (closed.state, cancelled.state, rejected.state) == ("closed", "cancelled", "rejected")
    assert schedule.conflicts(change) == [approved]


def test_a_change_without_a_window_has_no_conflicts(agent, django_assert_num_queries):
    change = make_change(by=agent, hosts=make_hosts(1))
    with django_assert_num_queries(0):
        assert schedule.conflicts(change) == []


def test_conflicts_are_two_queries_whatever_the_hosts(agent, django_assert_num_queries):
    group = make_group("Web", hosts=30)
    change = make_change(by=agent, host_groups=[group], **planned(0, 4))
    for n in range(5):
        make_change(by=agent, hosts=list(group.hosts.all()[n : n + 1]), **planned(n % 3, 5))
    with django_assert_num_queries(2):
        found = schedule.conflicts(change)
    assert len(found) == 5


# --- The calendar -----------------------------------------------------------------------------


def test_the_calendar_shows_changes_windows_and_freezes_colour_coded(agent):
    change = make_change(by=agent, **planned(0, 2))
    window = make_window("Sunday night", start=hours(24), end=hours(28))
    freeze = make_freeze("Year end", start=hours(48), end=hours(96))
    make_change(by=agent, **planned(500, 501))  # outside the range
    entries = schedule.calendar(hours(-1), hours(100), user=agent)
    assert [(e["kind"], e["id"], e["colour"], e["label"]) for e in entries] == [
        ("change", change.pk, "blue", "Change"),
        ("maintenance", window.pk, "green", "Maintenance window"),
        ("freeze", freeze.pk, "red", "Change freeze"),
    ]
    first = entries[0]
    assert first["title"] == f"{change.number} Patch the web servers"
    assert (first["start"], first["end"], first["url_name"]) == (hours(0), hours(2), "desk:change-detail")
    assert (first["number"], first["state"], first["change_type"]) == (change.number, "draft", "normal")


def test_spans_crossing_the_range_edges_are_shown(agent):
    make_window(start=hours(-10), end=hours(1))
    make_freeze(start=hours(9), end=hours(30))
    make_window("Touching", start=hours(-10), end=hours(0))  # ends as the range starts
    entries = schedule.calendar(hours(0), hours(10), user=agent)
    assert [e["kind"] for e in entries] == ["maintenance", "freeze"]


def test_a_change_with_only_a_start_shows_at_its_start(agent):
    change = make_change(by=agent, **planned(5, None))
    [entry] = schedule.calendar(hours(0), hours(10), user=agent)
    assert (entry["id"], entry["start"], entry["end"]) == (change.pk, hours(5), hours(5))


def test_cancelled_and_rejected_changes_are_not_on_the_calendar(agent, lead):
    workflows.change_cancel(change=make_change(by=agent, **planned(0, 1)), actor=agent)
    rejected_change(by=agent, approver=lead, **planned(0, 1))
    kept = approved_change(by=agent, approver=lead, **planned(0, 1))
    assert [e["id"] for e in schedule.calendar(hours(-1), hours(10), user=agent)] == [kept.pk]


def test_a_self_service_user_sees_nothing_on_the_calendar(agent, customer):
    make_change(by=agent, **planned(0, 1))
    make_window(start=hours(0), end=hours(1))
    make_freeze(start=hours(0), end=hours(1))
    assert schedule.calendar(hours(-1), hours(10), user=customer) == []


def test_366_days_is_the_longest_range():
    with pytest.raises(InvalidInput) as refused:
        schedule.calendar(T0, T0 + timedelta(days=366, seconds=1), user=None)
    message = refused.value.fields["end"][0]
    assert "at most 366 days" in message and "2027-03-01 to 2028-03-01" in message


def test_a_range_of_366_days_is_answered(agent):
    assert schedule.calendar(T0, T0 + timedelta(days=366), user=agent) == []


@pytest.mark.parametrize(("start", "end"), [(T0, T0), (T0, T0 - timedelta(days=1))])
def test_the_end_comes_after_the_start(agent, start, end):
    with pytest.raises(InvalidInput) as refused:
        schedule.calendar(start, end, user=agent)
    assert "end" in refused.value.fields


def test_start_and_end_must_be_date_times(agent):
    with pytest.raises(InvalidInput) as refused:
        schedule.calendar("2027-01-01", None, user=agent)
    assert {"start", "end"} <= set(refused.value.fields)


def test_a_month_of_calendar_is_three_queries_whatever_it_holds(agent, django_assert_max_num_queries):
    for n in range(20):
        make_change(by=agent, **planned(n * 10, n * 10 + 2))
        make_window(f"W{n}", start=hours(n * 12), end=hours(n * 12 + 3))
    for n in range(20):  # after the changes: a normal change is not planned in a freeze
        make_freeze(f"F{n}", start=hours(n * 30), end=hours(n * 30 + 1))
    with django_assert_max_num_queries(4):  # the user's roles, then one query a kind
        entries = schedule.calendar(T0, T0 + timedelta(days=31), user=agent)
    assert len(entries) == 60
    assert [e["start"] for e in entries] == sorted(e["start"] for e in entries)
