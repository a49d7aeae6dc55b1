"""Django admin reads the policy: who enters, what they see, and that saves are audited."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import make_user
from incidents.models import Incident
from itsm import attachments
from itsm.models import Attachment, AuditEntry, Host, User
from itsm.roles import PERSONAS, Persona, Role, effective_roles
from tests.incidents.factories import make_incident
from tests.itsm.admin_support import page_data
from tests.itsm.test_attachments import PDF

pytestmark = pytest.mark.django_db


def incident(**values):
    values.setdefault("state", "new")
    return Incident.objects.create(kind=Incident.KIND, number=values.pop("number", "INC0000001"), **values)


def test_customer_cannot_enter_admin_even_with_password(client, customer):
    response = client.post("/admin/login/", {"username": "customer", "password": "pw"})
    assert response.status_code == 200
    assert "may not use the administration pages" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_itsm_administrator_enters_admin_without_is_staff(client):
    user = make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)
    assert not user.is_staff
    client.force_login(user)
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "Incidents" in page.content.decode()


def test_cmdb_manager_sees_hosts_but_not_incidents_or_users(client):
    client.force_login(make_user("cmdb", Role.CMDB_MANAGER))
    page = client.get("/admin/").content.decode()
    assert "Hosts" in page
    assert "/admin/incidents/" not in page
    assert client.get("/admin/incidents/incident/").status_code == 403
    assert client.get("/admin/itsm/user/").status_code == 403


def test_admin_change_goes_through_the_service_and_is_audited(client, admin_user, customer):
    record = incident(short_description="Old text", requester=customer)
    client.force_login(admin_user)
    url = f"/admin/incidents/incident/{record.pk}/change/"
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url,
        {
            "short_description": "New text",
            "description": "",
            "priority": "P2",
            "impact": 3,
            "urgency": 3,
            "classification": "",
            "category": "",
            "subcategory": "",
            "service": "",
            "requester": customer.pk,
            "major_incident_review": "",
            "version": record.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    record.refresh_from_db()
    assert record.short_description == "New text"
    assert record.version == 2
    changed = set(
        AuditEntry.objects.filter(object_id=str(record.pk), action="update").values_list("field", flat=True)
    )
    assert {"short_description", "priority"} <= changed


def test_only_itsm_administrator_may_delete_incidents_in_admin(client, agent, admin_user, customer):
    record = incident(short_description="Delete me", requester=customer)
    itsm_admin = make_user("itsmadmin", Role.ITSM_ADMINISTRATOR, Role.CMDB_MANAGER)
    client.force_login(agent)  # L2 persona holds cmdb_manager, so it enters admin
    assert client.get(f"/admin/incidents/incident/{record.pk}/delete/").status_code == 403
    client.force_login(itsm_admin)
    response = client.post(f"/admin/incidents/incident/{record.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Incident.objects.filter(pk=record.pk).exists()
    assert AuditEntry.objects.filter(object_id=str(record.pk), action="delete", actor=itsm_admin).exists()


def test_audit_journal_is_read_only_in_admin(client, admin_user, customer):
    incident(short_description="x", requester=customer)
    from itsm import audit

    audit.log_create(Incident.objects.get(), admin_user)
    entry = AuditEntry.objects.get()
    client.force_login(admin_user)
    assert client.get("/admin/itsm/auditentry/").status_code == 200
    assert client.get("/admin/itsm/auditentry/add/").status_code == 403
    assert client.post(f"/admin/itsm/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/itsm/auditentry/{entry.pk}/change/", {"note": "rewritten"})
    entry.refresh_from_db()
    assert entry.note == ""


def test_attachment_change_page_submitted_by_the_itsm_administrator_changes_nothing(client, agent, customer):
    """Files are added and removed on their record's pages and API only (itsm.attachments): the
    admin shows one, with its policy-checked download link, and refuses a submitted change form."""
    record = make_incident(requester=customer)
    [added] = attachments.attachment_add(
        record=record, actor=agent, files=[SimpleUploadedFile("report.pdf", PDF)]
    )
    itsm_admin = make_user("itsmadmin", Role.ITSM_ADMINISTRATOR)
    client.force_login(itsm_admin)
    url = f"/admin/itsm/attachment/{added.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "report.pdf" in html and reverse("desk:attachment-download", args=[added.pk]) in html
    assert 'name="_save"' not in html
    journal = AuditEntry.objects.count()
    response = client.post(url, {**page_data(page), "name": "renamed.pdf", "internal": "on", "_save": "Save"})
    assert response.status_code == 403
    assert client.post(f"/admin/itsm/attachment/{added.pk}/delete/", {"post": "yes"}).status_code == 403
    saved = Attachment.objects.get(pk=added.pk)
    assert (saved.name, saved.internal, saved.file.name) == ("report.pdf", False, added.file.name)
    assert default_storage.exists(saved.file.name)
    assert AuditEntry.objects.count() == journal


def test_persona_action_grants_the_bundle(client, admin_user):
    user = make_user("newhire")
    client.force_login(admin_user)
    response = client.post(
        "/admin/itsm/user/",
        {"action": f"give_persona_{Persona.L1_AGENT.value}", "_selected_action": [user.pk]},
    )
    assert response.status_code == 302
    user = User.objects.get(pk=user.pk)
    assert PERSONAS[Persona.L1_AGENT] <= effective_roles(user)


def test_role_granted_in_admin_inline_is_held(client, admin_user):
    user = make_user("newhire")
    client.force_login(admin_user)
    url = f"/admin/itsm/user/{user.pk}/change/"
    response = client.post(
        url,
        {
            "username": "newhire",
            "first_name": "",
            "last_name": "",
            "email": "",
            "organisation": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "role_grants-TOTAL_FORMS": "1",
            "role_grants-INITIAL_FORMS": "0",
            "role_grants-MIN_NUM_FORMS": "0",
            "role_grants-MAX_NUM_FORMS": "1000",
            "role_grants-0-role": Role.ITSM_MANAGER,
            "role_grants-0-user": user.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(pk=user.pk)
    assert {Role.ITSM_MANAGER, Role.ITSM_AGENT, Role.PLATFORM_SELFSERVICE} <= effective_roles(user)


def test_admin_host_list_query_count_is_fixed(client, admin_user, django_assert_max_num_queries):
    client.force_login(admin_user)
    for i in range(30):
        Host.objects.create(hostname=f"h{i}")
    with django_assert_max_num_queries(12):
        assert client.get("/admin/itsm/host/").status_code == 200


def test_grant_role_command_grants_and_reports(customer):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("grant_role", "customer", "cmdb_viewer", stdout=out)
    assert "cmdb_viewer" in out.getvalue()
    customer = User.objects.get(pk=customer.pk)
    assert Role.CMDB_VIEWER in effective_roles(customer)


def test_a_refusal_only_the_service_sees_comes_back_as_a_message_not_a_500(client, admin_user, monkeypatch):
    from itsm import services
    from itsm.errors import InvalidInput, NotAllowed
    from itsm.models import Organisation

    org = Organisation.objects.create(name="Acme")
    client.force_login(admin_user)

    def refuse_update(**kwargs):
        raise InvalidInput("Someone renamed it meanwhile.", fields={"name": ["Reload and try again."]})

    monkeypatch.setattr(services, "record_update", refuse_update)
    url = f"/admin/itsm/organisation/{org.pk}/change/"
    response = client.post(url, {"name": "Acme Ltd", "is_active": "on"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone renamed it meanwhile. name: Reload and try again." in page
    assert page.count("Someone renamed it meanwhile.") == 1
    assert "Nothing was saved." in page
    assert Organisation.objects.get(pk=org.pk).name == "Acme"

    def refuse_delete(**kwargs):
        raise NotAllowed("Organisations with customers are kept.")

    monkeypatch.setattr(services, "record_delete", refuse_delete)
    response = client.post(f"/admin/itsm/organisation/{org.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "Organisations with customers are kept." in response.content.decode()
    assert Organisation.objects.filter(pk=org.pk).exists()


def test_admin_search_for_a_whole_number_finds_that_record(client, admin_user, customer):
    first = incident(number="INC0000041", short_description="Printer", requester=customer)
    incident(number="INC0000042", short_description="Mentions INC0000041 in passing", requester=customer)
    client.force_login(admin_user)
    response = client.get("/admin/incidents/incident/", {"q": "inc0000041"})
    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [first.pk]
    words = client.get("/admin/incidents/incident/", {"q": "printer"}).context["cl"].result_list
    assert [row.pk for row in words] == [first.pk]


def test_admin_lists_count_up_to_the_cap_and_say_more_than(client, admin_user, customer, monkeypatch):
    from itsm.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 3)
    for n in range(5):
        incident(number=f"INC00000{n:02d}", short_description=f"Disk {n}", requester=customer)
    client.force_login(admin_user)
    monkeypatch.setattr("incidents.admin.IncidentAdmin.list_per_page", 2)
    page = client.get("/admin/incidents/incident/")
    assert page.status_code == 200
    assert "more than 3 incidents" in " ".join(page.content.decode().split())
    assert len(page.context["cl"].result_list) == 2
    assert client.get("/admin/incidents/incident/", {"p": "3"}).status_code == 200  # past the counted pages
    # No "Select all 3 incidents": an action on "all" would touch every row, not the 3 counted.
    assert "Select all 3 incidents" not in page.content.decode()


def test_group_members_added_in_the_admin_are_journaled_and_need_a_manager(client, admin_user, agent):
    from itsm.models import AssignmentGroup, GroupMembership
    from tests.itsm.admin_support import page_data

    group = AssignmentGroup.objects.create(name="Network")
    url = f"/admin/itsm/assignmentgroup/{group.pk}/change/"
    client.force_login(admin_user)
    data = page_data(client.get(url))
    data.update({"memberships-0-user": str(agent.pk), "memberships-0-role": "lead"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    membership = GroupMembership.objects.get(group=group, user=agent)
    assert membership.role == "lead"
    assert AuditEntry.objects.filter(object_id=str(membership.pk), action="create", actor=admin_user).exists()

    # An agent who enters the admin (cmdb_manager) reads the group but adds no member.
    client.force_login(agent)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="memberships-MAX_NUM_FORMS" value="0"' in page.content.decode()  # no row to add
    client.post(url, {**data, "memberships-TOTAL_FORMS": "2", "memberships-1-user": str(admin_user.pk)})
    assert not GroupMembership.objects.filter(group=group, user=admin_user).exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/incidents/incidenttask/?incident=99999999999999999999",
        "/admin/incidents/incidenttask/?incident__id__in=1,99999999999999999999",
        "/admin/incidents/incident/?assignee=99999999999999999999",
    ],
)
def test_an_admin_list_filtered_by_an_impossible_id_is_a_bad_lookup_not_a_500(client, admin_user, path):
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_an_admin_add_form_ignores_an_impossible_id_given_as_its_initial_value(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/incidents/incidenttask/add/?incident=99999999999999999999")
    assert response.status_code == 200
    assert "99999999999999999999" not in response.content.decode()


def test_only_a_superuser_changes_a_superusers_account(admin_user):
    from itsm import access
    from itsm.errors import NotAllowed

    granter = make_user("granter", Role.ITSM_ADMINISTRATOR)
    with pytest.raises(NotAllowed):
        access.account_update(user=admin_user, actor=granter, data={"is_active": False})
    admin_user.refresh_from_db()
    assert admin_user.is_active
    other = make_user("other", Role.ITSM_AGENT)
    access.account_update(user=other, actor=granter, data={"first_name": "Olga"})
    access.account_update(user=admin_user, actor=admin_user, data={"first_name": "Ada"})
