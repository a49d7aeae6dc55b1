"""The desk's change calendar: a month grid and a week of days with the changes' planned windows,
maintenance windows and freezes on the days they touch — colour-coded AND labelled in words —,
previous / next / today links, clear 400s for a bad view or date, and a fixed number of queries
whatever the number of entries."""

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from django.urls import NoReverseMatch, reverse

from changes.models import Change, ChangeFreeze, MaintenanceWindow
from changes.views.desk import calendar as cal
from conftest import make_user
from itsm import services
from itsm.roles import Role

pytestmark = pytest.mark.django_db

CALENDAR = reverse("desk:change-calendar")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def at(day: int, hour: int = 10, month: int = 3, year: int = 2031) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def planned(actor, title, start, end, **data) -> Change:
    return services.record_create(
        model=Change, actor=actor, requester=actor,
        data={"short_description": title, "planned_start": start, "planned_end": end, **data},
    )  # fmt: skip


def cell_of(response, day: date) -> list:
    """The entries the page put on ``day``."""
    for found in response.context["days"]:
        if found.date == day:
            return found.entries
    raise AssertionError(f"{day} is not on the page")


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def test_month_shows_changes_windows_and_freezes_on_their_days_labelled_in_words(desk, agent, manager):
    change = planned(agent, "Patch the core switches", at(10, 20), at(10, 22))
    MaintenanceWindow.objects.create(name="Sunday patch window", start=at(16, 2), end=at(16, 6), created_by=manager)
    ChangeFreeze.objects.create(name="Quarter-end freeze", start=at(27, 0), end=at(29, 0), created_by=manager)
    response = desk.get(CALENDAR, {"view": "month", "date": "2031-03-14"})
    assert response.status_code == 200
    [entry] = cell_of(response, date(2031, 3, 10))
    assert (entry.kind, entry.label, entry.colour) == ("change", "Change", "blue")
    assert entry.url == reverse("desk:change-detail", args=[change.pk])
    [window] = cell_of(response, date(2031, 3, 16))
    assert (window.label, window.colour, window.title) == ("Maintenance", "green", "Sunday patch window")
    # A freeze of two days is on both days, and not on the day its end falls on at midnight.
    assert [e.label for e in cell_of(response, date(2031, 3, 27))] == ["Freeze"]
    assert [e.colour for e in cell_of(response, date(2031, 3, 28))] == ["red"]
    assert cell_of(response, date(2031, 3, 29)) == []
    html = html_of(response)
    assert "March 2031" in html
    for words in ("Change", "Maintenance", "Freeze", "Patch the core switches", "Sunday patch window"):
        assert words in html
    assert 'class="chg-entry chg-entry-change chg-blue"' in html
    assert 'class="chg-entry chg-entry-maintenance chg-green"' in html
    assert 'class="chg-entry chg-entry-freeze chg-red"' in html


def test_month_grid_runs_monday_to_sunday_around_the_month(desk):
    response = desk.get(CALENDAR, {"date": "2031-03-14"})
    weeks = response.context["weeks"]
    assert weeks[0][0].date == date(2031, 2, 24) and weeks[-1][-1].date == date(2031, 4, 6)
    assert all(len(week) == 7 for week in weeks)
    assert not weeks[0][0].in_month and weeks[0][5].in_month  # 1 March 2031 is a Saturday


def test_week_view_lists_seven_days_from_monday_with_times(desk, agent):
    planned(agent, "Replace the UPS batteries", at(12, 9), at(12, 11))
    response = desk.get(CALENDAR, {"view": "week", "date": "2031-03-13"})
    assert response.status_code == 200
    assert [day.date for day in response.context["days"]] == [date(2031, 3, 10) + timedelta(n) for n in range(7)]
    [entry] = cell_of(response, date(2031, 3, 12))
    assert entry.title.endswith("Replace the UPS batteries")
    html = html_of(response)
    assert "Week of 10 March 2031" in html and "09:00" in html and "11:00" in html


def test_previous_and_next_move_by_a_month_or_a_week(desk):
    month = desk.get(CALENDAR, {"view": "month", "date": "2031-01-31"}).context
    assert (month["previous"], month["following"]) == (date(2030, 12, 1), date(2031, 2, 1))
    week = desk.get(CALENDAR, {"view": "week", "date": "2031-01-01"}).context
    assert (week["previous"], week["following"]) == (date(2030, 12, 25), date(2031, 1, 8))
    html = html_of(desk.get(CALENDAR, {"view": "week", "date": "2031-01-01"}))
    assert "?view=week&date=2030-12-25" in html and "?view=week&date=2031-01-08" in html


def test_without_a_date_the_calendar_shows_this_month(desk):
    response = desk.get(CALENDAR)
    assert response.status_code == 200
    assert response.context["anchor"] == response.context["today"]
    assert response.context["view_name"] == "month"


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"date": "2031-02-30"}, "Date: “2031-02-30” is not a date"),
        ({"date": "next tuesday"}, "is not a date: write it as YYYY-MM-DD"),
        ({"date": "2400-01-01"}, "Pick a date between 1970 and 2199"),
        ({"view": "year"}, "View: “year” is not a calendar view"),
    ],
)
def test_a_bad_view_or_date_is_a_400_that_says_which(desk, params, said):
    response = desk.get(CALENDAR, params)
    assert response.status_code == 400
    assert said in html_of(response)


def test_an_entry_that_runs_over_several_days_says_when_it_began_and_ends(desk, manager):
    MaintenanceWindow.objects.create(name="Data centre move", start=at(5, 18), end=at(7, 6), created_by=manager)
    response = desk.get(CALENDAR, {"view": "week", "date": "2031-03-05"})
    first, middle, last = (cell_of(response, date(2031, 3, d))[0] for d in (5, 6, 7))
    assert first.starts_today and not first.ends_today
    assert not middle.starts_today and not middle.ends_today
    assert last.ends_today and not last.starts_today
    assert first.when == "from 18:00, until 7 Mar 06:00"
    assert middle.when == "all day (5 Mar – 7 Mar)"
    assert last.when == "until 06:00 (since 5 Mar)"


def test_an_entry_ending_at_midnight_ends_at_24_00_of_its_last_day(desk, manager):
    ChangeFreeze.objects.create(name="Quarter end", start=at(27, 0), end=at(29, 0), created_by=manager)
    response = desk.get(CALENDAR, {"view": "week", "date": "2031-03-27"})
    assert cell_of(response, date(2031, 3, 27))[0].when == "from 00:00, until 29 Mar 00:00"
    assert cell_of(response, date(2031, 3, 28))[0].when == "until 24:00 (since 27 Mar)"


def test_a_busy_day_shows_four_entries_and_links_to_the_rest(desk, agent):
    for n in range(6):
        planned(agent, f"Change {n}", at(11, 8 + n), at(11, 9 + n))
    response = desk.get(CALENDAR, {"date": "2031-03-11"})
    day = next(d for d in response.context["days"] if d.date == date(2031, 3, 11))
    assert len(day.shown) == 4 and day.more == 2
    assert "2 more" in html_of(response)


def test_windows_and_freezes_link_to_the_admin_only_for_those_who_edit_them(client, agent, manager):
    row = MaintenanceWindow.objects.create(name="Window", start=at(16, 2), end=at(16, 6), created_by=manager)
    try:  # the admin page of windows (absent while the admin is not registered: then no link)
        admin_page = reverse("admin:changes_maintenancewindow_change", args=[row.pk])
    except NoReverseMatch:
        admin_page = None
    client.force_login(agent)  # may enter the admin (cmdb_manager) but not edit windows
    [entry] = cell_of(client.get(CALENDAR, {"date": "2031-03-16"}), date(2031, 3, 16))
    assert entry.url is None
    client.force_login(manager)
    [entry] = cell_of(client.get(CALENDAR, {"date": "2031-03-16"}), date(2031, 3, 16))
    assert entry.url == admin_page


def test_self_service_users_are_refused_and_desk_users_without_changes_get_404(client, customer, organisation):
    client.force_login(customer)
    assert client.get(CALENDAR).status_code == 403
    client.force_login(make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation))
    assert client.get(CALENDAR).status_code == 404


def _queries(client, django_assert_max_num_queries) -> int:
    client.get(CALENDAR, {"date": "2031-03-14"})
    with django_assert_max_num_queries(12) as captured:
        response = client.get(CALENDAR, {"date": "2031-03-14"})
    assert response.status_code == 200
    return len(captured)


def test_calendar_query_count_does_not_grow_with_the_entries(desk, agent, manager, django_assert_max_num_queries):
    planned(agent, "One", at(3), at(3, 12))
    few = _queries(desk, django_assert_max_num_queries)
    for n in range(1, 20):
        planned(agent, f"Change {n}", at(n, 8), at(n, 9))
        MaintenanceWindow.objects.create(name=f"Window {n}", start=at(n, 1), end=at(n, 2), created_by=manager)
        ChangeFreeze.objects.create(name=f"Freeze {n}", start=at(n, 22), end=at(n, 23), created_by=manager)
    assert _queries(desk, django_assert_max_num_queries) == few


def test_month_cells_are_ordered_freezes_first_then_windows_then_changes(desk, agent, manager):
    planned(agent, "Early change", at(20, 1), at(20, 2))
    MaintenanceWindow.objects.create(name="Window", start=at(20, 5), end=at(20, 6), created_by=manager)
    ChangeFreeze.objects.create(name="Freeze", start=at(20, 12), end=at(20, 13), created_by=manager)
    entries = cell_of(desk.get(CALENDAR, {"date": "2031-03-20"}), date(2031, 3, 20))
    assert [e.kind for e in entries] == ["freeze", "maintenance", "change"]


def test_month_helpers_cross_the_year(desk):
    assert cal.shift_month(date(2031, 12, 15), 1) == date(2032, 1, 1)
    assert cal.shift_month(date(2031, 1, 15), -1) == date(2030, 12, 1)


def test_the_calendar_links_to_ones_own_feed_page_which_shows_and_changes_the_secret_link(desk, agent):
    feed_page = reverse("desk:change-feed")
    assert f'href="{feed_page}"' in html_of(desk.get(CALENDAR))
    first = desk.get(feed_page).context["feed_url"]
    assert re.fullmatch(r"http://testserver/changes/feeds/\d+/[^/]+\.ics", first)
    assert desk.get(feed_page).context["feed_url"] == first  # the same link each visit
    assert desk.get(first.removeprefix("http://testserver")).status_code == 200
    response = desk.post(feed_page)
    assert response.status_code == 302 and response["Location"] == feed_page
    second = desk.get(feed_page).context["feed_url"]
    assert second != first
    assert desk.get(first.removeprefix("http://testserver")).status_code == 404  # the old link is dead


def test_only_readers_of_changes_get_a_feed_link(client, customer, organisation):
    feed_page = reverse("desk:change-feed")
    client.force_login(customer)
    assert client.get(feed_page).status_code == 403
    client.force_login(make_user("deskuser", Role.PLATFORM_AGENT, organisation=organisation))
    assert client.get(feed_page).status_code == 404
    assert client.post(feed_page).status_code == 404
