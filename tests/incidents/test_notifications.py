"""Customer e-mails: sent after commit, through the notification queue, to the requester and
requested-for person, built only from what each recipient may read."""

import pytest
from django.core import mail
from django.db import transaction
from django.template import engines

from conftest import make_user
from incidents import services, workflows
from incidents.models import Incident, IncidentNote
from incidents.rules import INCIDENT_HIDDEN
from itsm import policy
from itsm.models import AssignmentGroup
from notifications import services as notify
from notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db

# Distinctive values of fields a customer never reads.
SECRET_GROUP = "Zebra Squad"
SECRET_ASSIGNEE = "quasimodo"
SECRET_NOTES = "Swapped the flux capacitor"
SECRET_WORK_NOTE = "Journal entry xyzzy"


@pytest.fixture
def assignee(db):
    return make_user(SECRET_ASSIGNEE, "itsm_agent")


@pytest.fixture
def record(customer, customer2, assignee):
    return Incident.objects.create(
        number="INC0000042",
        kind=Incident.KIND,
        state="in_progress",
        short_description="Printer on fire",
        requester=customer,
        requested_for=customer2,
        organisation=customer.organisation,
        priority="P1",
        impact=1,
        urgency=1,
        assignee=assignee,
        assignment_group=AssignmentGroup.objects.create(name=SECRET_GROUP),
    )


def resolve(record, actor):
    return workflows.incident_resolve(
        incident=record, actor=actor, resolution_code="workaround", resolution_notes=SECRET_NOTES
    )


def whole(message) -> str:
    return f"{message.subject}\n{message.body}"


def test_resolving_emails_requester_and_requested_for_once_each_after_commit(
    record, agent, customer, customer2, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
        assert mail.outbox == []  # nothing before the commit
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, customer2.email])
    assert all(len(m.to) == 1 for m in mail.outbox)


def test_resolved_email_names_number_state_resolution_code_and_portal_link(
    record, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    assert len(mail.outbox) == 2  # the requester and the requested-for person
    for message in mail.outbox:
        text = whole(message)
        assert "INC0000042" in message.subject
        assert "Printer on fire" in text
        assert "resolved" in message.body
        assert "Workaround" in message.body
        assert f"/portal/incidents/{record.pk}/" in message.body


def test_resolved_email_never_shows_fields_hidden_from_the_customer(
    record, agent, django_capture_on_commit_callbacks
):
    services.note_add(incident=record, actor=agent, kind=IncidentNote.Kind.WORK_NOTE, body=SECRET_WORK_NOTE)
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    assert mail.outbox
    for message in mail.outbox:
        text = whole(message)
        for secret in ("P1", SECRET_ASSIGNEE, SECRET_GROUP, SECRET_NOTES, SECRET_WORK_NOTE):
            assert secret not in text, secret


def test_email_context_holds_only_fields_the_recipient_reads(record, customer, agent):
    record = resolve(record, agent)
    context = notify.work_values(customer, record)
    names = {key.removesuffix("_label") for key in context}
    assert not names & policy.hidden_fields(customer, record)
    assert policy.hidden_fields(customer, record) >= INCIDENT_HIDDEN
    assert {"number", "short_description", "state", "resolution_code"} <= names
    # Even a template that asks for a hidden field gets nothing.
    template = engines["django"].from_string(
        "[{{ work.priority }}][{{ work.assignee }}][{{ work.resolution_notes }}]"
    )
    assert template.render({"work": context}) == "[][][]"


def test_no_email_when_the_resolution_rolls_back(record, agent, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        resolve(record, agent)
        raise RuntimeError("the surrounding work failed")
    assert mail.outbox == []


def test_no_email_to_people_without_an_address(
    record, agent, customer, customer2, django_capture_on_commit_callbacks
):
    customer.email = ""
    customer.save(update_fields=["email"])
    record.requested_for = None
    record.save(update_fields=["requested_for"])
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    assert mail.outbox == []


def test_requested_for_same_as_requester_gets_one_email(
    record, agent, customer, django_capture_on_commit_callbacks
):
    record.requested_for = customer
    record.save(update_fields=["requested_for"])
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    assert [m.to for m in mail.outbox] == [[customer.email]]


def test_work_note_sends_no_email(record, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.note_add(
            incident=record, actor=agent, kind=IncidentNote.Kind.WORK_NOTE, body=SECRET_WORK_NOTE
        )
    assert mail.outbox == []


def test_agent_comment_is_emailed_to_requester_and_requested_for(
    record, agent, customer, customer2, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.note_add(
            incident=record, actor=agent, kind=IncidentNote.Kind.COMMENT, body="Please restart the printer."
        )
        assert mail.outbox == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, customer2.email])
    for message in mail.outbox:
        text = whole(message)
        assert "Please restart the printer." in message.body
        assert "INC0000042" in message.subject
        assert f"/portal/incidents/{record.pk}/" in message.body
        for secret in ("P1", SECRET_ASSIGNEE, SECRET_GROUP, agent.username):
            assert secret not in text, secret


def test_customer_own_comment_sends_no_email_to_themselves_only_to_the_assignee(
    record, customer, assignee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.note_add(
            incident=record, actor=customer, kind=IncidentNote.Kind.COMMENT, body="Still broken."
        )
    assert customer.email not in [address for m in mail.outbox for address in m.to]
    assert [m.to for m in mail.outbox] == [[assignee.email]]  # issue #17: whoever works it is told


def test_agent_who_is_the_requester_gets_no_copy_of_its_own_comment(
    record, agent, customer2, django_capture_on_commit_callbacks
):
    record.requester = agent
    record.save(update_fields=["requester"])
    with django_capture_on_commit_callbacks(execute=True):
        services.note_add(incident=record, actor=agent, kind=IncidentNote.Kind.COMMENT, body="Noted.")
    assert [m.to for m in mail.outbox] == [[customer2.email]]


def test_a_mail_server_failure_does_not_fail_the_resolution_and_the_mail_is_tried_again(
    record, agent, customer, customer2, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    class Down:
        def open(self):
            raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(notify, "get_connection", Down)
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    record.refresh_from_db()
    assert record.state == "resolved"
    assert mail.outbox == []
    (retry,) = Schedule.objects.filter(func="notifications.services.deliver")
    assert customer.email in retry.args and customer2.email in retry.args


def test_customer_e_mails_leave_through_the_delivery_queue_after_commit(
    record, agent, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    real = notify.async_task

    def spy(func, *args, **kwargs):
        queued.append((func, len(args[0])))
        return real(func, *args, **kwargs)

    monkeypatch.setattr(notify, "async_task", spy)
    with django_capture_on_commit_callbacks(execute=True):
        services.note_add(incident=record, actor=agent, kind=IncidentNote.Kind.COMMENT, body="On my way.")
        assert queued == []
    assert queued == [("notifications.services.deliver", 2)]
    assert len(mail.outbox) == 2


def test_each_recipient_is_greeted_by_its_own_name(
    record, agent, customer, customer2, django_capture_on_commit_callbacks
):
    customer2.first_name, customer2.last_name = "Ada", "Lovelace"
    customer2.save(update_fields=["first_name", "last_name"])
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert bodies[customer.email].startswith("Hello customer,")
    assert bodies[customer2.email].startswith("Hello Ada Lovelace,")


def test_customers_get_e_mail_only_and_no_in_app_notification(
    record, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
        services.note_add(incident=record, actor=agent, kind=IncidentNote.Kind.COMMENT, body="Done.")
    assert len(mail.outbox) == 4
    assert not Notification.objects.exists()


def test_an_agent_the_incident_is_for_is_told_in_the_desk_with_the_desk_link(
    record, agent, lead, customer2, django_capture_on_commit_callbacks
):
    record.requester = lead
    record.save(update_fields=["requester"])
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    sent = {m.to[0]: m for m in mail.outbox}
    assert sorted(sent) == sorted([lead.email, customer2.email])
    assert f"/desk/incidents/{record.pk}/" in sent[lead.email].body
    assert f"/portal/incidents/{record.pk}/" in sent[customer2.email].body
    row = Notification.objects.get()
    assert (row.recipient, row.kind, row.work_id) == (lead, Kind.RESOLVED, record.pk)
    assert row.subject == "[INC0000042] Resolved: Printer on fire"


def test_inactive_people_are_not_emailed(
    record, agent, customer, customer2, django_capture_on_commit_callbacks
):
    customer2.is_active = False
    customer2.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        resolve(record, agent)
    assert [m.to for m in mail.outbox] == [[customer.email]]
