"""Customer follow-up (issue #17 item 12): the acknowledgement e-mail, a customer's comment
reaching whoever works the incident, "customer replied" on a resolved incident (queue filter,
badge, never shown to the customer), the resolve message the customer reads (resolution notes
stay hidden), and "needs you" notifications withdrawn once the work no longer needs the person."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from conftest import make_user
from incidents import services, workflows
from incidents.models import Incident, IncidentNote
from incidents.tasks import auto_close
from itsm.models import AuditEntry
from itsm.timeline import entries_for
from notifications import services as notify
from notifications.models import Kind, Notification
from tests.incidents.factories import make_incident
from tests.itsm.factories import make_group

pytestmark = pytest.mark.django_db

SECRET_NOTES = "Swapped the flux capacitor"
MESSAGE = "Your printer works again: we replaced its toner."


def resolve(incident, agent, message=""):
    return workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="workaround", resolution_notes=SECRET_NOTES,
        resolution_message=message,
    )  # fmt: skip


def comment(incident, actor, body="It is broken again."):
    return services.note_add(incident=incident, actor=actor, kind=IncidentNote.Kind.COMMENT, body=body)


def told(person, kind) -> list[Notification]:
    return list(Notification.objects.filter(recipient=person, kind=kind))


@pytest.fixture
def assigned(customer, agent):
    return make_incident(requester=customer, assignee=agent)


# --- a. The acknowledgement ------------------------------------------------------------------


def test_a_customer_raising_an_incident_on_the_portal_gets_an_acknowledgement_with_number_summary_and_link(
    client, customer, django_capture_on_commit_callbacks
):
    client.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal:incident-new"), {"short_description": "Laptop will not boot"})
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert [m.to for m in mail.outbox] == [[customer.email]]
    message = mail.outbox[0]
    assert incident.number in message.subject and "Laptop will not boot" in message.subject
    assert f"/portal/incidents/{incident.pk}/" in message.body
    assert "received" in message.body


def test_the_acknowledgement_tells_the_person_it_is_for_too_and_never_hidden_fields(
    customer, customer2, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_incident(requester=customer, requested_for=customer2, priority="P1")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, customer2.email])
    assert all("P1" not in m.body and "priority" not in m.body.lower() for m in mail.outbox)


def test_an_incident_raised_by_an_agent_or_from_monitoring_sends_no_acknowledgement(
    agent, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_incident(requester=customer, by=agent)
    assert not [m for m in mail.outbox if "received" in m.subject]


# --- b. A customer's comment reaches the assignee, else the group ----------------------------


def test_a_customer_comment_tells_the_assignee_in_app_and_by_mail(
    assigned, customer, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        comment(assigned, customer, "Still smoking.")
    [notice] = told(agent, Kind.CUSTOMER_COMMENTED)
    assert notice.work_id == assigned.pk and "Still smoking." in notice.body
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "Still smoking." in mail.outbox[0].body and assigned.number in mail.outbox[0].subject


def test_a_customer_comment_on_an_unassigned_incident_tells_the_groups_members(customer, agent, lead):
    other = make_user("other", "itsm_agent")
    group = make_group("Network", members=[agent, other])
    incident = make_incident(requester=customer, assignment_group=group, assigned_by=lead)
    incident.refresh_from_db()
    assert incident.assignee is None  # no on-call schedule: the group has it, nobody in particular
    comment(incident, customer)
    assert {n.recipient for n in Notification.objects.filter(kind=Kind.CUSTOMER_COMMENTED)} == {agent, other}


def test_an_agents_comment_and_a_work_note_tell_no_agent(assigned, agent, l1):
    services.note_add(incident=assigned, actor=l1, kind=IncidentNote.Kind.COMMENT, body="We are on it.")
    services.note_add(incident=assigned, actor=l1, kind=IncidentNote.Kind.WORK_NOTE, body="Checked cables.")
    assert not Notification.objects.filter(kind__in=[Kind.CUSTOMER_COMMENTED, Kind.CUSTOMER_REPLIED]).exists()


# --- c. "Customer replied" on a resolved incident ---------------------------------------------


def test_a_customer_comment_on_a_resolved_incident_marks_it_customer_replied_and_tells_the_assignee(
    assigned, customer, agent
):
    resolve(assigned, agent)
    comment(assigned, customer, "Not fixed, it jams again.")
    assigned.refresh_from_db()
    assert assigned.state == "resolved"  # the customer cannot reopen (SPEC §5)
    assert assigned.customer_replied_at is not None
    [notice] = told(agent, Kind.CUSTOMER_REPLIED)
    assert "Not fixed, it jams again." in notice.body and "reopen" in notice.body
    assert not told(agent, Kind.CUSTOMER_COMMENTED)


def test_a_customer_comment_while_open_does_not_mark_customer_replied(assigned, customer):
    comment(assigned, customer)
    assigned.refresh_from_db()
    assert assigned.customer_replied_at is None


@pytest.mark.parametrize("then", ["reopen", "close"])
def test_reopening_or_closing_clears_customer_replied(assigned, customer, agent, then):
    resolve(assigned, agent)
    comment(assigned, customer)
    if then == "reopen":
        workflows.incident_reopen(incident=assigned, actor=agent)
    else:
        workflows.incident_close(incident=assigned, actor=agent)
    assigned.refresh_from_db()
    assert assigned.customer_replied_at is None


def test_the_auto_close_sweep_leaves_an_incident_the_customer_replied_to(assigned, customer, agent):
    resolve(assigned, agent)
    comment(assigned, customer)
    Incident.objects.filter(pk=assigned.pk).update(resolved_at=timezone.now() - timedelta(days=5))
    quiet = make_incident(requester=customer, assignee=agent, short_description="Quiet")
    resolve(quiet, agent)
    Incident.objects.filter(pk=quiet.pk).update(resolved_at=timezone.now() - timedelta(days=5))
    assert auto_close(stale_hours=48)["closed"] == [quiet.pk]
    assigned.refresh_from_db()
    assert assigned.state == "resolved" and assigned.customer_replied_at is not None


def test_closing_a_batch_clears_customer_replied(assigned, customer, agent):
    resolve(assigned, agent)
    comment(assigned, customer)
    workflows.incidents_close_locked([Incident.objects.get(pk=assigned.pk)])
    assigned.refresh_from_db()
    assert assigned.state == "closed" and assigned.customer_replied_at is None


def test_the_portal_comment_on_a_resolved_incident_marks_it_and_the_customer_still_cannot_reopen(
    client, assigned, customer, agent
):
    resolve(assigned, agent)
    client.force_login(customer)
    response = client.post(
        reverse("portal:incident-comment", args=[assigned.pk]), {"body": "Not solved."}, follow=True
    )
    assert "The service desk has been told" in response.content.decode()
    assigned.refresh_from_db()
    assert assigned.state == "resolved" and assigned.customer_replied_at is not None
    reopen = client.post(f"/api/v1/incidents/{assigned.pk}/reopen/", {}, content_type="application/json")
    assert reopen.status_code == 403
    assigned.refresh_from_db()
    assert assigned.state == "resolved"


def test_customer_replied_is_hidden_from_the_customer_in_api_filter_and_timeline(
    api, assigned, customer, agent
):
    resolve(assigned, agent)
    comment(assigned, customer)
    client = api.as_user(customer)
    body = client.get(f"/api/v1/incidents/{assigned.pk}/").json()
    assert "customer_replied_at" not in body
    # The filter is dropped for the customer: answered as if not asked, not narrowed by it.
    assert client.get("/api/v1/incidents/", {"customer_replied": "false"}).json()["count"] == 1
    timeline = client.get(f"/api/v1/incidents/{assigned.pk}/timeline/").json()
    assert "customer_replied" not in str(timeline)
    assert not [e for e in entries_for(customer, assigned) if e.field == "customer_replied_at"]
    # The agent reads it, in the body, the filter and the journal.
    desk = api.as_user(agent)
    assert desk.get(f"/api/v1/incidents/{assigned.pk}/").json()["customer_replied_at"]
    assert desk.get("/api/v1/incidents/", {"customer_replied": "true"}).json()["count"] == 1
    assert AuditEntry.objects.filter(field="customer_replied_at").exists()


def test_the_desk_queue_filters_customer_replied_and_badges_the_row_and_the_page(client, customer, agent):
    replied = make_incident(requester=customer, assignee=agent, short_description="Replied one")
    quiet = make_incident(requester=customer, assignee=agent, short_description="Quiet one")
    resolve(replied, agent)
    resolve(quiet, agent)
    comment(replied, customer)
    client.force_login(agent)
    response = client.get(reverse("desk:incident-list"), {"customer_replied": "on"})
    assert [i.number for i in response.context["page"].object_list] == [replied.number]
    assert "Customer replied" in response.content.decode()
    everything = client.get(reverse("desk:incident-list"), {"state": "open", "customer_replied": "on"}).content.decode()
    assert everything.count('class="badge customer-replied"') == 1
    page = client.get(reverse("desk:incident-detail", args=[replied.pk])).content.decode()
    assert 'class="badge customer-replied"' in page
    assert (
        'class="badge customer-replied"'
        not in client.get(reverse("desk:incident-detail", args=[quiet.pk])).content.decode()
    )


def test_the_customer_replied_filter_keeps_the_queue_query_count(
    client, customer, agent, django_assert_max_num_queries
):
    for n in range(3):
        incident = make_incident(requester=customer, assignee=agent, short_description=f"R{n}")
        resolve(incident, agent)
        comment(incident, customer)
    client.force_login(agent)
    path = reverse("desk:incident-list")
    client.get(path, {"customer_replied": "on"})
    with django_assert_max_num_queries(10):  # the page, its saved views and the groups to share with (issue #17 item 10)
        response = client.get(path, {"customer_replied": "on"})
    assert len(response.context["page"].object_list) == 3


# --- d. The resolution message ----------------------------------------------------------------


def test_the_resolution_message_reaches_the_portal_and_the_resolved_email_but_not_the_notes(
    client, assigned, customer, agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        resolve(assigned, agent, MESSAGE)
    [message] = [m for m in mail.outbox if m.to == [customer.email]]
    assert MESSAGE in message.body and SECRET_NOTES not in message.body
    client.force_login(customer)
    page = client.get(reverse("portal:incident-detail", args=[assigned.pk])).content.decode()
    assert MESSAGE in page and SECRET_NOTES not in page


def test_resolve_through_the_api_takes_the_message_the_customer_reads_and_hides_the_notes(
    api, assigned, customer, agent
):
    response = api.as_user(agent).post(
        f"/api/v1/incidents/{assigned.pk}/resolve/",
        {"resolution_code": "resolved", "resolution_notes": SECRET_NOTES, "resolution_message": MESSAGE},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = api.as_user(customer).get(f"/api/v1/incidents/{assigned.pk}/").json()
    assert body["resolution_message"] == MESSAGE
    assert "resolution_notes" not in body and SECRET_NOTES not in str(body)


def test_a_too_long_resolution_message_is_a_400_naming_it_and_changes_nothing(api, assigned, agent):
    response = api.as_user(agent).post(
        f"/api/v1/incidents/{assigned.pk}/resolve/",
        {"resolution_code": "resolved", "resolution_notes": "Done.", "resolution_message": "x" * 9000},
        format="json",
    )
    assert response.status_code == 400 and "resolution_message" in response.json()
    assigned.refresh_from_db()
    assert assigned.state != "resolved"


def test_the_desk_resolve_form_takes_the_message(client, assigned, agent):
    client.force_login(agent)
    response = client.post(
        reverse("desk:incident-action", args=[assigned.pk, "resolve"]),
        {"resolve-resolution_code": "resolved", "resolve-resolution_notes": SECRET_NOTES,
         "resolve-resolution_message": MESSAGE},
    )  # fmt: skip
    assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.state == "resolved" and assigned.resolution_message == MESSAGE


def test_reopening_clears_the_resolution_message(assigned, agent):
    resolve(assigned, agent, MESSAGE)
    workflows.incident_reopen(incident=assigned, actor=agent)
    assigned.refresh_from_db()
    assert assigned.resolution_message == ""


def test_the_admin_shows_the_resolution_message_read_only(client, assigned, agent, admin_user):
    resolve(assigned, agent, MESSAGE)
    client.force_login(admin_user)
    page = client.get(reverse("admin:incidents_incident_change", args=[assigned.pk])).content.decode()
    assert MESSAGE in page
    assert 'name="resolution_message"' not in page


# --- e. Notifications withdrawn when the work no longer needs the person -----------------------


def needs_you(person, incident, kind=Kind.STAGE):
    notify.send([notify.Message(person, kind, incident, {"stage": 1, "policy": "P"})])
    return Notification.objects.get(recipient=person, work=incident, kind=kind)


def test_reassigning_withdraws_the_former_assignees_needs_you_notifications_only(assigned, agent, l1):
    mine = needs_you(agent, assigned)
    theirs = needs_you(l1, assigned)
    services.incident_assign(incident=assigned, actor=agent, assignee=l1)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None  # the new assignee is still needed
    assert notify.unread_count(agent) == 0


@pytest.mark.parametrize("finish", ["resolve", "cancel"])
def test_finishing_the_work_withdraws_everyones_needs_you_notifications(assigned, agent, l1, finish):
    notices = [needs_you(agent, assigned), needs_you(l1, assigned, Kind.SLA_WARNING)]
    if finish == "resolve":
        resolve(assigned, agent)
    else:
        workflows.incident_cancel(incident=assigned, actor=agent)
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in notices)


def test_closing_withdraws_the_customer_replied_notification(assigned, customer, agent):
    resolve(assigned, agent)
    comment(assigned, customer)
    [notice] = told(agent, Kind.CUSTOMER_REPLIED)
    assert notice.read_at is None
    workflows.incident_close(incident=assigned, actor=agent)
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_the_auto_close_sweep_withdraws_what_closing_by_hand_withdraws(customer, agent, l1):
    by_hand = make_incident(requester=customer, assignee=agent, short_description="By hand")
    swept = make_incident(requester=customer, assignee=agent, short_description="Swept")
    for incident in (by_hand, swept):
        resolve(incident, agent)
        needs_you(agent, incident)  # told after the resolve (a late warning, a breach)
        needs_you(l1, incident, Kind.SLA_BREACHED)
        Notification.objects.create(recipient=l1, work=incident, kind=Kind.COMMENTED, subject="FYI", body="")
    workflows.incident_close(incident=by_hand, actor=agent)
    Incident.objects.filter(pk=swept.pk).update(resolved_at=timezone.now() - timedelta(days=5))
    assert auto_close(stale_hours=48)["closed"] == [swept.pk]

    def unread(incident):
        rows = Notification.objects.filter(work=incident, read_at=None)
        return sorted(rows.values_list("recipient", "kind"))

    assert unread(swept) == unread(by_hand)
    assert not Notification.objects.filter(work=swept, kind__in=notify.NEEDS_YOU, read_at=None).exists()
    assert unread(swept) == [(l1.pk, Kind.COMMENTED)]  # informational: it stays


def test_withdrawing_leaves_other_works_and_informational_notifications_alone(assigned, customer, agent):
    other = make_incident(requester=customer, assignee=agent, short_description="Other")
    elsewhere = needs_you(agent, other)
    resolve(assigned, agent)
    elsewhere.refresh_from_db()
    assert elsewhere.read_at is None


def test_withdrawing_is_one_query(assigned, agent, django_assert_num_queries):
    needs_you(agent, assigned)
    with django_assert_num_queries(1):
        notify.withdraw([assigned.pk], keep=agent.pk)
