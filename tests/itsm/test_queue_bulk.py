"""Bulk actions and CSV export on the problem, change and request desk queues (issue #17 item 10),
all on the shared core (``itsm.bulk_actions``, ``itsm.views.queue``): the ticked rows are assigned
(with a work note) or moved on by each record's own service, refusals say which and why, the
form is there only for readers the policy lets act, and the API's ``bulk/`` answers in the
incidents' shape. The export holds the visible columns, readable rows and no hidden field."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from html import unescape

import pytest
from django.urls import reverse

from catalog import workflows as request_workflows
from catalog.models import Request
from catalog.views.desk import queue as request_queue
from changes import workflows as change_workflows
from changes.models import Change
from changes.views.desk import queue as change_queue
from conftest import make_user
from itsm.policy.rules import AGENT, ALL_RULES, Act, Read
from itsm.roles import Role
from problems import workflows as problem_workflows
from problems.models import Problem
from problems.views.desk import queue as problem_queue
from tests.catalog.factories import make_request
from tests.changes.factories import approved_change, make_change
from tests.itsm.factories import make_group
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Kind:
    name: str  # the queue's key and URL name prefix
    plural: str
    model: type
    api: str
    columns: tuple
    rule: str

    def make(self, agent, customer, title="Something broke"):
        if self.name == "problem":
            return make_problem(by=agent, short_description=title)
        if self.name == "change":
            return make_change(by=agent, short_description=title)
        return make_request(requester=customer, short_description=title)

    def finished(self, agent, customer):
        """One that may no longer be assigned: cancelled."""
        record = self.make(agent, customer, "Called off")
        if self.name == "problem":
            return problem_workflows.problem_cancel(problem=record, actor=agent)
        if self.name == "change":
            return change_workflows.change_cancel(change=record, actor=agent, reason="Not needed")
        return request_workflows.request_cancel(request=record, actor=agent, reason="Not needed")

    @property
    def list_url(self) -> str:
        return reverse(f"desk:{self.name}-list")

    @property
    def bulk_url(self) -> str:
        return reverse(f"desk:{self.name}-bulk")


KINDS = [
    Kind("problem", "problems", Problem, "/api/v1/problems/bulk/", problem_queue.QUEUE_COLUMNS, "problems.problem"),
    Kind("change", "changes", Change, "/api/v1/changes/bulk/", change_queue.QUEUE_COLUMNS, "changes.change"),
    Kind("request", "requests", Request, "/api/v1/requests/bulk/", request_queue.QUEUE_COLUMNS, "catalog.request"),
]
each_kind = pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])


@pytest.fixture
def network(agent, l1):
    return make_group("Network", members=[agent, l1])


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- The desk's bulk form ---------------------------------------------------------------------


@each_kind
def test_bulk_assign_gives_the_ticked_records_to_the_person_and_group_with_a_work_note(
    kind, desk, agent, customer, network
):
    a, b = kind.make(agent, customer, "First"), kind.make(agent, customer, "Second")
    response = desk.post(
        kind.bulk_url,
        {"action": "assign", "ids": [a.pk, b.pk], "assignee": agent.pk, "assignment_group": network.pk,
         "comment": "Network team takes these", "next": f"{kind.list_url}?state="},
        follow=True,
    )  # fmt: skip
    assert response.redirect_chain[-1][0] == f"{kind.list_url}?state="
    assert f"2 of 2 {kind.plural} changed." in text_of(response)
    for record in (a, b):
        record.refresh_from_db()
        assert (record.assignee, record.assignment_group) == (agent, network)
        assert record.notes.get().body == "Network team takes these"


@each_kind
def test_bulk_assign_leaves_a_record_its_state_forbids_and_says_which_and_why(
    kind, desk, agent, customer, network
):
    open_one, done = kind.make(agent, customer), kind.finished(agent, customer)
    response = desk.post(
        kind.bulk_url,
        {"action": "assign", "ids": [open_one.pk, done.pk], "assignment_group": network.pk, "comment": "Ours"},
        follow=True,
    )
    page = text_of(response)
    assert f"1 of 2 {kind.plural} changed." in page
    assert f"{done.number} was not changed:" in page
    done.refresh_from_db()
    assert done.assignment_group is None
    assert not done.notes.filter(body="Ours").exists()  # nothing half-written


@each_kind
def test_bulk_assign_without_a_person_or_group_changes_nothing_and_says_so(kind, desk, agent, customer):
    record = kind.make(agent, customer)
    version = record.version
    response = desk.post(kind.bulk_url, {"action": "assign", "ids": [record.pk]}, follow=True)
    assert "Nothing was changed" in text_of(response) and "Choose a person, a group, or both." in text_of(response)
    record.refresh_from_db()
    assert (record.assignee, record.assignment_group, record.version) == (None, None, version)


@each_kind
def test_queue_rows_have_checkboxes_joined_to_the_bulk_form(kind, desk, agent, customer):
    record = kind.make(agent, customer)
    html = desk.get(kind.list_url).content.decode()
    assert f'name="ids" value="{record.pk}" form="queue-bulk"' in html
    assert f'action="{kind.bulk_url}"' in html and "Select all on this page" in html


@each_kind
def test_the_bulk_forms_fields_are_written_out_only_when_it_is_opened(kind, desk, agent, customer):
    kind.make(agent, customer)
    html = desk.get(kind.list_url, {"priority": "3"}).content.decode()
    assert 'name="action"' not in html and "{#" not in html
    assert '<a href="?priority=3&amp;open=bulk">Open the form</a>' in html  # without JavaScript
    opened = desk.get(kind.list_url, {"priority": "3", "open": "bulk"}).content.decode()
    assert 'name="action"' in opened and "Apply to selected" in opened


@each_kind
def test_no_bulk_form_for_a_reader_the_policy_does_not_let_act(kind, desk, agent, customer, monkeypatch):
    record = kind.make(agent, customer)
    rules = ALL_RULES[kind.rule]
    monkeypatch.setitem(ALL_RULES, kind.rule, replace(rules, actions={}))
    html = desk.get(kind.list_url).content.decode()
    assert record.number in html
    assert 'id="queue-bulk"' not in html and 'form="queue-bulk"' not in html


def test_a_problem_whose_work_note_is_refused_is_not_assigned_either(desk, agent, network, monkeypatch):
    """Each record's action and its note are one transaction: nothing half-written."""
    problem = make_problem(by=agent)
    rules = ALL_RULES["problems.problem"]
    actions = {name: acts for name, acts in rules.actions.items() if name != "note"}
    monkeypatch.setitem(ALL_RULES, "problems.problem", replace(rules, actions=actions))
    response = desk.post(
        reverse("desk:problem-bulk"),
        {"action": "assign", "ids": [problem.pk], "assignment_group": network.pk, "comment": "Ours"},
        follow=True,
    )
    assert f"{problem.number} was not changed" in text_of(response)
    problem.refresh_from_db()
    assert problem.assignment_group is None and not problem.notes.exists()


def test_bulk_start_investigates_new_problems_and_bulk_close_refuses_unverified_ones(desk, agent, customer):
    a, b = make_problem(by=agent, short_description="A"), make_problem(by=agent, short_description="B")
    started = desk.post(reverse("desk:problem-bulk"), {"action": "start", "ids": [a.pk, b.pk]}, follow=True)
    assert "2 of 2 problems changed." in text_of(started)
    closed = desk.post(reverse("desk:problem-bulk"), {"action": "close", "ids": [a.pk]}, follow=True)
    assert f"{a.number} was not changed: Cannot close a record that is investigating." in text_of(closed)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state, b.state) == ("investigating", "investigating")


def test_bulk_start_starts_approved_changes_only(desk, agent, manager):
    approved = approved_change(by=agent, approver=manager)
    draft = make_change(by=agent, short_description="Not yet approved")
    response = desk.post(reverse("desk:change-bulk"), {"action": "start", "ids": [approved.pk, draft.pk]}, follow=True)
    page = text_of(response)
    assert "1 of 2 changes changed." in page and f"{draft.number} was not changed" in page
    approved.refresh_from_db()
    draft.refresh_from_db()
    assert (approved.state, draft.state) == ("in_progress", "draft")


# --- The API ------------------------------------------------------------------------------------


@each_kind
def test_api_bulk_assign_answers_requested_affected_unchanged_and_refused(kind, api, agent, customer, network):
    record, done = kind.make(agent, customer), kind.finished(agent, customer)
    response = api.as_user(agent).post(
        kind.api,
        {"action": "assign", "ids": [record.pk, done.pk, 999999], "assignee": agent.pk, "assignment_group": network.pk},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("requested", "affected", "unchanged")} == {"requested": 3, "affected": 1, "unchanged": 2}
    assert [(r["id"], r["number"]) for r in body["refused"]] == [(done.pk, done.number), (999999, None)]
    assert body["refused"][1]["reason"] == "Not found."
    record.refresh_from_db()
    assert record.assignee == agent


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "delete", "ids": [1]}, "action"),
        ({"action": "assign", "ids": []}, "ids"),
        ({"action": "assign", "ids": list(range(1, 102)), "assignee": 1}, "ids"),
        ({"action": "assign", "ids": [1]}, "assignee"),
        ({"action": "assign", "ids": [1], "assignment_group": 2**70}, "assignment_group"),
    ],
)
@each_kind
def test_bad_api_bulk_input_is_400_naming_the_field(kind, body, field, api, agent):
    response = api.as_user(agent).post(kind.api, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


@each_kind
def test_customers_may_not_bulk_act(kind, api, agent, customer, network):
    """Refused outright, nothing changed: 403 on requests (which customers raise); problems and
    changes answer 404 on every URL to those who read none of them."""
    record = kind.make(agent, customer)
    version = record.version
    response = api.as_user(customer).post(
        kind.api, {"action": "assign", "ids": [record.pk], "assignment_group": network.pk}, format="json"
    )
    assert response.status_code == (403 if kind.name == "request" else 404), response.content
    record.refresh_from_db()
    assert (record.assignment_group, record.version) == (None, version)


def test_a_bulk_request_costs_a_bounded_number_of_queries_per_record(
    api, agent, network, django_assert_max_num_queries
):
    problems = [make_problem(by=agent, short_description=f"P{i}") for i in range(10)]
    body = {"action": "assign", "ids": [p.pk for p in problems], "assignment_group": network.pk}
    # One read of the records, then per record its lock, checks, write and journal (about ten).
    with django_assert_max_num_queries(20 + 12 * len(problems)):
        response = api.as_user(agent).post("/api/v1/problems/bulk/", body, format="json")
    assert response.json()["affected"] == 10


# --- CSV export ---------------------------------------------------------------------------------


@each_kind
def test_csv_export_holds_the_visible_columns_readable_records_and_no_hidden_field(
    kind, desk, agent, customer, monkeypatch
):
    assignee = make_user("zed.assignee", Role.ITSM_AGENT)
    group = make_group("Zeds", members=[assignee])
    shown = kind.make(agent, customer, "Readable one")
    unseen = kind.make(agent, customer, "Unreadable one")
    for record in (shown, unseen):
        desk.post(kind.bulk_url, {"action": "assign", "ids": [record.pk], "assignee": assignee.pk,
                                  "assignment_group": group.pk})  # fmt: skip
        record.refresh_from_db()
        assert record.assignee == assignee
    hidden = frozenset({"assignee", "assignment_group"})
    rules = ALL_RULES[kind.rule]
    reader = Read(AGENT, hidden=hidden, where=(("short_description", frozenset({"Readable one"})),))
    monkeypatch.setitem(ALL_RULES, kind.rule, replace(rules, read=(reader,), actions={"note": (Act(AGENT),)}))
    response = desk.get(kind.list_url, {"state": "", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0] == [label for name, label, _ in kind.columns if name not in hidden]
    assert [row[0] for row in rows[1:]] == [shown.number]
    body = "\n".join(",".join(row) for row in rows)
    assert "zed.assignee" not in body and "Zeds" not in body and "Unreadable" not in body


@each_kind
def test_csv_export_holds_only_the_chosen_columns(kind, desk, agent, customer):
    record = kind.make(agent, customer, "Pick me")
    rows = csv_rows(desk.get(kind.list_url, {"columns": ["number", "short_description"], "format": "csv"}))
    assert rows == [["Number", "Short description"], [record.number, "Pick me"]]
