"""SLA clocks, breaches, escalation and notification links work for any kind of Work, not only
incidents: what the shared services know of a kind's states and pages comes from its lifecycle
(``itsm.workflow``).

The second kind here is a catalog request with its own lifecycle (``catalog.workflows``):
waiting for approval pauses its clocks; completed, rejected and cancelled requests are finished.
Requests have no escalation columns: a breach on one is journaled and told, and escalation leaves
it alone. Most tests move requests with a table of their own (as the system), so that they pin
the clocks, not the request workflow; the first one goes through the workflow itself.
"""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import workflows as request_workflows
from catalog.models import Request, RequestState
from escalation import services as escalation
from incidents import services as incident_services
from itsm import workflow
from itsm.models import AuditEntry
from itsm.workflow import Lifecycle, Transition, transition
from notifications.models import Kind, Notification
from sla import clocks
from sla.models import ClockEvent, ClockState, SlaStatus
from sla.tasks import sla_sweep
from tests.catalog.factories import make_item, make_request
from tests.incidents.factories import make_incident
from tests.sla.support import (
    clock,
    clocks_of,
    desk_fixture,  # noqa: F401 (the ``desk`` fixture)
    fresh,
    kinds,
    now_fixture,  # noqa: F401 (the ``now`` fixture)
    raise_request,
    standard_fixture,  # noqa: F401 (the ``standard`` fixture)
)

pytestmark = pytest.mark.django_db

R = RequestState
TRANSITIONS = {
    "submit": Transition(frozenset({R.SUBMITTED}), R.PENDING_APPROVAL),
    "approve": Transition(frozenset({R.PENDING_APPROVAL}), R.APPROVED),
    "fulfil": Transition(frozenset({R.APPROVED}), R.IN_FULFILMENT),
    "complete": Transition(frozenset({R.IN_FULFILMENT}), R.COMPLETED),
}


def _register(request, lifecycle: Lifecycle) -> Lifecycle:
    # Registered for this test only: the request workflow's own comes back when it ends.
    assert workflow.lifecycle_of(Request.KIND) is request_workflows.LIFECYCLE
    workflow.register(lifecycle)
    request.addfinalizer(lambda: workflow.register(request_workflows.LIFECYCLE))
    return lifecycle


@pytest.fixture
def requests():
    """The request workflow's lifecycle."""
    return request_workflows.LIFECYCLE


@pytest.fixture
def requests_with_a_page(request):
    """The request lifecycle naming a desk page of the tests' own (tests/sla/urls.py)."""
    return _register(request, replace(request_workflows.LIFECYCLE, desk_page="test-request-page"))


@pytest.fixture
def requests_without_pages(request):
    """The request lifecycle as if requests had no pages."""
    return _register(request, replace(request_workflows.LIFECYCLE, desk_page="", portal_page=""))


def move(request, name):
    """A request transition as the system (the test's stand-in for the request workflow)."""
    return transition(TRANSITIONS, request, None, name)


def assigned_request(customer, agent, desk):
    return raise_request(customer, assignee=agent, assignment_group=desk)


def test_a_request_gets_clocks_that_pause_resume_and_stop_by_its_lifecycle(
    customer, manager, agent, requests, standard, now
):
    item = make_item(levels=[{"mode": "any", "users": [manager.pk]}])
    request = make_request(requester=customer, item=item)  # waits for approval: paused at once
    assert request.state == R.PENDING_APPROVAL
    assert {t: c.state for t, c in clocks_of(request).items()} == {
        "response": ClockState.PAUSED,
        "resolution": ClockState.PAUSED,
    }
    assert fresh(request).sla_status == SlaStatus.PAUSED
    now.advance(hours=30)  # approval takes longer than the target: paused time does not count
    request = request_workflows.request_approve(request=request, actor=manager)
    assert clock(request).state == ClockState.RUNNING
    assert clock(request, "response").state == ClockState.STOPPED  # the approval answered it
    request = request_workflows.request_fulfil(request=request, actor=agent)
    now.advance(hours=3)
    request = request_workflows.request_complete(request=request, actor=agent)
    resolution = clock(request)
    assert resolution.state == ClockState.STOPPED
    assert resolution.elapsed == timedelta(hours=3)
    assert kinds(resolution) == [
        ClockEvent.STARTED, ClockEvent.PAUSED, ClockEvent.RESUMED, ClockEvent.STOPPED,
    ]  # fmt: skip
    assert fresh(request).sla_status == SlaStatus.MET


def test_a_priority_change_on_a_paused_request_starts_its_new_target_paused(
    customer, requests, standard, now
):
    standard.p3_resolution_minutes = None
    standard.save()
    request = raise_request(customer, priority="P3")
    clocks.start(request)
    assert set(clocks_of(request)) == {"response"}
    request = move(request, "submit")  # answered (no longer new) and waiting: paused
    clocks.pause(request)
    Request.objects.filter(pk=request.pk).update(priority="P4")
    clocks.retarget(fresh(request))
    current = clocks_of(request)
    assert current["resolution"].state == ClockState.PAUSED  # the new target waits too
    assert current["response"].state == ClockState.PAUSED


def test_a_finished_request_starts_no_new_clock_on_a_priority_change(customer, requests, standard, now):
    standard.p3_response_minutes = None
    standard.save()
    request = raise_request(customer, priority="P3")
    clocks.start(request)
    for name in ("submit", "approve", "fulfil", "complete"):
        request = move(request, name)
    clocks.stop(request)
    Request.objects.filter(pk=request.pk).update(priority="P4")
    clocks.retarget(fresh(request))
    assert set(clocks_of(request)) == {"resolution"}


def test_a_request_breach_is_journaled_and_told_and_escalation_leaves_it_alone(
    customer, agent, lead, desk, requests, standard, now, django_capture_on_commit_callbacks
):
    request = assigned_request(customer, agent, desk)
    clocks.start(request)
    now.advance(hours=4, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep()["breached"] == 1
    assert fresh(request).sla_status == SlaStatus.BREACHED
    journal = AuditEntry.objects.filter(object_id=str(request.pk), field="sla_status")
    assert [(e.new_value, e.content_type.model) for e in journal] == [("breached", "request")]
    assert "response" in journal.get().note
    told = Notification.objects.filter(kind=Kind.SLA_BREACHED, work_id=request.pk)
    assert {n.recipient for n in told} == {agent, lead}
    breach_mail = [m for m in mail.outbox if "breached" in m.subject]
    assert sorted(m.to[0] for m in breach_mail) == sorted([agent.email, lead.email])
    assert all("escalated" not in m.body for m in breach_mail)  # requests have no level
    # Escalation leaves it alone: no level journaled, and its sweep does not walk requests.
    assert not AuditEntry.objects.filter(object_id=str(request.pk), field__startswith="escalation").exists()
    assert Request not in [lc.model for lc in escalation.escalating_lifecycles()]
    assert escalation.sweep(now=now() + timedelta(days=1)) == {"advanced": []}


def test_a_request_breach_found_by_a_transition_is_recorded_and_told(
    customer, agent, lead, desk, requests, standard, now
):
    request = assigned_request(customer, agent, desk)
    clocks.start(request)
    now.advance(hours=5)
    request = move(request, "submit")
    clocks.pause(request)  # the sweep had not run: the pause records the breach
    assert clock(request, "response").breached_at is not None
    assert AuditEntry.objects.filter(object_id=str(request.pk), field="sla_status").count() == 1
    told = Notification.objects.filter(kind=Kind.SLA_BREACHED, work_id=request.pk)
    assert {n.recipient for n in told} == {agent, lead}


def test_one_sweep_breaches_incidents_and_requests_each_as_its_own_kind(
    customer, agent, lead, desk, requests, standard, now
):
    incident = incident_services.incident_assign(
        incident=make_incident(requester=customer), actor=lead, assignee=agent, assignment_group=desk
    )
    request = assigned_request(customer, agent, desk)
    clocks.start(request)
    now.advance(hours=5)
    assert sla_sweep()["breached"] == 2
    assert fresh(incident).escalation_level == 1
    breaches = AuditEntry.objects.filter(field="sla_status")
    assert sorted(e.content_type.model for e in breaches) == ["incident", "request"]
    assert AuditEntry.objects.filter(object_id=str(incident.pk), field="escalation_level").count() == 1
    assert set(Notification.objects.filter(kind=Kind.SLA_BREACHED).values_list("work_id", flat=True)) == {
        incident.pk,
        request.pk,
    }


def test_a_mixed_sweep_batch_reads_each_kind_once_whatever_its_size(customer, requests, standard, now):
    def queries_for(count, offset):
        for n in range(count):
            make_incident(requester=customer, short_description=f"due {offset + n}")
            clocks.start(raise_request(customer, text=f"due {offset + n}"))
        now.advance(hours=5)
        with CaptureQueriesContext(connection) as captured:
            assert sla_sweep()["breached"] == 2 * count
        return len(captured)

    assert queries_for(2, 0) == queries_for(12, 100)


@pytest.mark.urls("tests.sla.urls")
def test_a_notification_about_a_request_links_to_its_own_page(
    customer,
    agent,
    lead,
    desk,
    requests_with_a_page,
    standard,
    now,
    client,
    django_capture_on_commit_callbacks,
):
    request = assigned_request(customer, agent, desk)
    clocks.start(request)
    now.advance(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    page = f"/desk/requests/{request.pk}/"
    assert any(page in m.body for m in mail.outbox if m.to == [agent.email])
    client.force_login(agent)
    listed = client.get("/desk/notifications/").content.decode()
    assert f'href="{page}"' in listed


@pytest.mark.urls("tests.sla.urls")
def test_a_digest_lists_requests_with_links_to_their_pages(
    customer, agent, desk, requests_with_a_page, standard, now, client
):
    made = [assigned_request(customer, agent, desk) for _ in range(6)]  # more than DIGEST_AT
    for request in made:
        clocks.start(request)
    now.advance(hours=5)
    sla_sweep()
    digest = Notification.objects.get(recipient=agent, kind=Kind.SLA_BREACHED)
    assert {item["kind"] for item in digest.items} == {"request"}
    client.force_login(agent)
    listed = client.get("/desk/notifications/").content.decode()
    for request in made:
        assert f'href="/desk/requests/{request.pk}/"' in listed


def test_without_a_page_of_its_kind_an_agent_is_sent_to_the_notification_list(
    customer, agent, desk, requests_without_pages, standard, now, client, django_capture_on_commit_callbacks
):
    request = assigned_request(customer, agent, desk)
    clocks.start(request)
    now.advance(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep()
    body = next(m.body for m in mail.outbox if m.to == [agent.email] and "breached" in m.subject)
    assert "/desk/notifications/" in body
    assert "/incidents/" not in body
    client.force_login(agent)
    listed = client.get("/desk/notifications/").content.decode()
    assert f"{request.number} breached its response SLA" in listed
    assert f"{request.number} breached its response SLA</a>" not in listed  # without a link


def test_the_escalation_sweep_walks_only_kinds_with_escalation_columns_and_moving_states(requests):
    # Requests have neither escalation columns nor moving states; incident tasks neither.
    from incidents.models import Incident

    assert [lc.model for lc in escalation.escalating_lifecycles()] == [Incident]


@pytest.mark.django_db
def test_a_customer_never_hears_of_an_escalation_of_a_kind_without_escalation_fields(
    requests, customer, agent, django_capture_on_commit_callbacks
):
    """Fail closed: a request has no escalation columns, so a message about its escalation
    cannot be checked against what its requester may read, and is sent to nobody; its SLA
    breach (a field it has) still reaches the agent."""
    from notifications import services as notify

    request_ = raise_request(customer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([
            notify.Message(customer, Kind.ESCALATED, request_, {"escalation_level": 3, "by": "Lee", "reason": "x"}),
            notify.Message(customer, Kind.STAGE, request_, {"stage": 2, "policy": "P"}),
            notify.Message(agent, Kind.SLA_BREACHED, request_, {"target": "resolution"}),
        ])  # fmt: skip
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "escalat" not in mail.outbox[0].body.lower()
