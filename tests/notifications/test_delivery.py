"""How notifications reach people at scale (issue #6): a storm becomes a digest, e-mails go out
through background tasks after the commit, and plain-text mail carries text as it was typed.

A person told about more than ``DIGEST_AT`` records of one kind by one sweep batch gets one
digest listing them (in the desk and by e-mail) instead of a message each; fewer, and each
record still gets its own message. E-mails are handed to django-q2 tasks in chunks once the
transaction commits (the tests run tasks inline); a broker that is down does not lose them.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents import services
from itsm.models import AuditEntry
from notifications import services as notify
from notifications.models import Kind, Notification
from notifications.services import Message
from sla.tasks import sla_sweep
from tests.incidents.factories import make_incident
from tests.sla.support import (  # noqa: F401 (the fixtures ``now``, ``standard``, ``desk``)
    desk_fixture,
    now_fixture,
    standard_fixture,
)

pytestmark = pytest.mark.django_db


def assigned_incidents(count, customer, lead, agent, desk, text="Mail is down"):
    return [
        services.incident_assign(
            incident=make_incident(requester=customer, short_description=f"{text} #{n}"),
            actor=lead,
            assignee=agent,
            assignment_group=desk,
        )
        for n in range(count)
    ]


def breach_all(now, capture):
    now.advance(hours=4, minutes=1)  # past every response target
    with capture(execute=True):
        return sla_sweep()


def test_more_breaches_than_the_digest_threshold_reach_each_person_as_one_digest(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    incidents = assigned_incidents(notify.DIGEST_AT + 2, customer, lead, agent, desk)
    assert breach_all(now, django_capture_on_commit_callbacks)["breached"] == len(incidents)
    for person in (agent, lead):
        told = Notification.objects.filter(recipient=person, kind=Kind.SLA_BREACHED)
        digest = told.get()  # one row, not seven
        assert digest.work_id is None
        assert digest.subject == f"SLA breached: {len(incidents)} incidents"
        for incident in incidents:
            assert f"{incident.number} breached its response SLA" in digest.body
            assert f"/desk/incidents/{incident.pk}/" in digest.body
    mails = {m.to[0]: m for m in mail.outbox}
    assert sorted(mails) == sorted([agent.email, lead.email])
    assert all(m.subject == f"SLA breached: {len(incidents)} incidents" for m in mails.values())
    # Each breach is still recorded and journaled on its own incident.
    for incident in incidents:
        assert AuditEntry.objects.filter(object_id=str(incident.pk), field="sla_status").exists()


def test_up_to_the_digest_threshold_each_record_gets_its_own_message(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    incidents = assigned_incidents(notify.DIGEST_AT, customer, lead, agent, desk)
    breach_all(now, django_capture_on_commit_callbacks)
    told = Notification.objects.filter(recipient=agent, kind=Kind.SLA_BREACHED)
    assert sorted(told.values_list("work_id", flat=True)) == sorted(i.pk for i in incidents)
    assert len([m for m in mail.outbox if m.to == [agent.email]]) == len(incidents)


def test_a_digest_is_per_person_and_kind_not_across_kinds(agent, customer, lead, desk, now, standard):
    incidents = [
        make_incident(requester=customer, short_description=f"Printer {n}") for n in range(notify.DIGEST_AT)
    ]
    messages = [Message(agent, Kind.SLA_BREACHED, i, {"target": "response"}) for i in incidents]
    messages += [Message(agent, Kind.ESCALATED, i, {"escalation_level": 1, "by": "lead"}) for i in incidents]
    notify.send(messages)
    rows = Notification.objects.filter(recipient=agent)
    assert rows.count() == 2 * notify.DIGEST_AT
    assert not rows.filter(work__isnull=True).exists()


def test_e_mail_text_is_sent_as_typed_not_html_escaped(
    customer, lead, agent, desk, standard, now, django_capture_on_commit_callbacks
):
    text = 'Can\'t print "A4" <urgent> & more'
    assigned_incidents(1, customer, lead, agent, desk, text=text)
    breach_all(now, django_capture_on_commit_callbacks)
    sent = next(m for m in mail.outbox if m.to == [agent.email])
    assert f'"{text} #0"' in sent.body
    assert "&quot;" not in sent.body and "&lt;" not in sent.body and "&#x27;" not in sent.body
    row = Notification.objects.get(recipient=agent, kind=Kind.SLA_BREACHED)
    assert f'"{text} #0"' in row.body


def test_e_mails_are_delivered_by_background_tasks_in_chunks_after_the_commit(
    customer, agent, lead, desk, standard, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    real = notify.async_task

    def spy(func, *args, **kwargs):
        queued.append(len(args[0]))
        return real(func, *args, **kwargs)

    monkeypatch.setattr(notify, "async_task", spy)
    monkeypatch.setattr(notify, "MAIL_CHUNK", 2)
    incident = make_incident(requester=customer)
    people = [agent, lead, customer]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify.send(
            [Message(p, Kind.ESCALATED, incident, {"escalation_level": 1, "by": "x"}) for p in people]
        )
    # Nothing is queued or sent before the transaction commits.
    assert queued == [] and mail.outbox == []
    for callback in callbacks:
        callback()
    # The customer may not read the escalation level: only the two agents are told.
    assert queued == [2]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([agent.email, lead.email])


def test_e_mails_are_sent_at_once_when_the_task_broker_is_down(
    customer, agent, standard, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broken(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(notify, "async_task", broken)
    incident = make_incident(requester=customer)
    with django_capture_on_commit_callbacks(execute=True):
        notify.send([Message(agent, Kind.ESCALATED, incident, {"escalation_level": 1, "by": "x"})])
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "Could not queue 1 notification e-mails" in caplog.text


class FlakyServer:
    """A mail connection that is down, or refuses some addresses."""

    def __init__(self, down=False, refuse=()):
        self.down, self.refuse, self.sent = down, set(refuse), []

    def open(self):
        if self.down:
            raise ConnectionRefusedError("no SMTP")

    def close(self):
        pass

    def send_messages(self, messages):
        for message in messages:
            if message.to[0] in self.refuse:
                raise OSError("mailbox unavailable")
            self.sent.append(message.to[0])
        return len(messages)


MAILS = [("Subject", "Body", "a@example.com"), ("Subject", "Body", "b@example.com")]


def _retries():
    from django_q.models import Schedule

    return list(Schedule.objects.filter(func="notifications.services.deliver"))


def test_a_mail_server_that_is_down_is_tried_again_later_without_failing_the_task(monkeypatch, caplog):
    from ast import literal_eval

    server = FlakyServer(down=True)
    monkeypatch.setattr(notify, "get_connection", lambda: server)
    before = timezone.now()
    assert notify.deliver(MAILS) == 0
    (retry,) = _retries()
    assert literal_eval(retry.args) == (MAILS, 2)
    assert before + timedelta(minutes=5) <= retry.next_run <= timezone.now() + timedelta(minutes=5)
    assert "2 notification e-mails will be tried again in 0:05:00" in caplog.text


def test_only_the_e_mails_that_failed_are_tried_again(monkeypatch):
    from ast import literal_eval

    server = FlakyServer(refuse={"b@example.com"})
    monkeypatch.setattr(notify, "get_connection", lambda: server)
    assert notify.deliver(MAILS, 2) == 1
    assert server.sent == ["a@example.com"]
    (retry,) = _retries()
    assert literal_eval(retry.args) == ([MAILS[1]], 3)
    assert retry.next_run > timezone.now() + timedelta(minutes=9)  # later each time


def test_after_the_last_attempt_it_gives_up_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(notify, "get_connection", lambda: FlakyServer(down=True))
    assert notify.deliver(MAILS, notify.MAIL_ATTEMPTS) == 0
    assert _retries() == []
    assert f"Gave up on 2 notification e-mails after {notify.MAIL_ATTEMPTS} attempts" in caplog.text


def test_a_retry_sends_when_the_server_is_back():
    assert notify.deliver(MAILS, 2) == 2
    assert [m.to for m in mail.outbox] == [["a@example.com"], ["b@example.com"]]
    assert _retries() == []


def test_notification_rows_keep_their_time_and_order_when_written_in_bulk(customer, agent, now, standard):
    incidents = [make_incident(requester=customer, short_description=f"Disk {n}") for n in range(3)]
    notify.send([Message(agent, Kind.SLA_BREACHED, i, {"target": "response"}) for i in incidents])
    rows = list(Notification.objects.filter(recipient=agent).order_by("id"))
    assert [r.work_id for r in rows] == [i.pk for i in incidents]
    assert all(r.created_at is not None and r.read_at is None for r in rows)
    assert rows[0].created_at - rows[-1].created_at < timedelta(seconds=5)


def test_the_desk_and_the_api_show_what_a_digest_lists(
    customer, lead, agent, desk, standard, now, client, api, django_capture_on_commit_callbacks
):
    incidents = assigned_incidents(notify.DIGEST_AT + 1, customer, lead, agent, desk)
    breach_all(now, django_capture_on_commit_callbacks)
    client.force_login(agent)
    html = client.get("/desk/notifications/").content.decode()
    assert f"SLA breached: {len(incidents)} incidents" in html
    assert f"<summary>The {len(incidents)} it lists</summary>" in html
    for incident in incidents:
        subject = f"{incident.number} breached its response SLA"
        assert f'<a href="/desk/incidents/{incident.pk}/">{subject}</a>' in html
    (digest,) = api.as_user(agent).get("/api/v1/notifications/").json()["results"]
    assert digest["work"] is None
    assert digest["items"] == [
        {"work": i.pk, "kind": "incident", "subject": f"{i.number} breached its response SLA"}
        for i in incidents
    ]


def test_an_e_mail_that_cannot_be_sent_at_all_is_dropped_and_the_others_go(monkeypatch, caplog):
    class BadHeader(FlakyServer):
        def send_messages(self, messages):
            if messages[0].to[0] == "a@example.com":
                raise ValueError("Header values can't contain newlines")
            return super().send_messages(messages)

    server = BadHeader()
    monkeypatch.setattr(notify, "get_connection", lambda: server)
    assert notify.deliver(MAILS) == 1
    assert server.sent == ["b@example.com"]
    assert _retries() == []  # another try would fail the same way
    assert "Dropped a notification e-mail to a@example.com" in caplog.text


def test_a_digest_lists_work_of_other_kinds_without_a_desk_link(agent, client):
    Notification.objects.create(
        recipient=agent, kind=Kind.SLA_BREACHED, subject="SLA breached: 6 records", body="…",
        items=[{"work": 1, "kind": "problem_task", "subject": "TASK0000001 breached its response SLA"}],
    )  # fmt: skip
    client.force_login(agent)
    html = client.get("/desk/notifications/").content.decode()
    assert "<li>TASK0000001 breached its response SLA</li>" in html
