"""Self-service portal pages for incidents: what a customer sees, and what it may do there."""

import re
from html import unescape

import pytest
from django.urls import reverse

from conftest import make_user
from incidents import services, workflows
from incidents.models import CsatResponse, Incident, IncidentNote
from itsm.models import AssignmentGroup, GroupMembership
from itsm.roles import PERSONAS, Persona
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

LIST = reverse("portal:incident-list")
NEW = reverse("portal:incident-new")
# Session, user with its roles, then the page's own reads: a count and a page of rows (list), or the
# incident, its comments and the customer's rating (detail). Never one per row or per comment.
QUERY_BOUND = 5
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def url(name, incident):
    return reverse(f"portal:{name}", args=[incident.pk])


def html_of(response) -> str:
    """The page as text, without the random CSRF tokens (which may spell "P1" by chance)."""
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def resolve(incident, agent, notes="Replaced the toner."):
    return workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="workaround", resolution_notes=notes
    )


def query_count(client, path, django_assert_max_num_queries):
    client.get(path)  # warm process-wide caches (content types), which no page size changes
    with django_assert_max_num_queries(QUERY_BOUND) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def outsider(other_organisation):
    return make_user("outsider", *PERSONAS[Persona.EVERYONE], organisation=other_organisation)


# --- Raising an incident --------------------------------------------------------------------


def test_customer_raises_an_incident_and_lands_on_its_page(client, customer):
    client.force_login(customer)
    assert client.get(NEW).status_code == 200
    response = client.post(
        NEW,
        {"short_description": "VPN drops every hour", "description": "Since Monday.", "requested_for": ""},
    )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("incident-detail", incident)
    assert incident.requester == customer
    assert incident.requested_for is None
    assert incident.organisation == customer.organisation
    assert incident.state == "new"
    html = html_of(client.get(response["Location"]))
    assert f"We have received your incident {incident.number}." in html
    assert "VPN drops every hour" in html
    assert "Since Monday." in html


def test_new_incident_without_short_description_is_a_400_naming_the_field(client, customer):
    client.force_login(customer)
    response = client.post(NEW, {"short_description": "   ", "description": "Something"})
    assert response.status_code == 400
    assert "Say in a few words what is wrong." in html_of(response)
    assert not Incident.objects.exists()


def test_customer_may_raise_an_incident_for_a_colleague_who_then_sees_it(client, customer, customer2):
    client.force_login(customer)
    response = client.post(NEW, {"short_description": "Laptop for Sam", "requested_for": customer2.pk})
    assert response.status_code == 302
    assert Incident.objects.get().requested_for == customer2
    client.force_login(customer2)
    assert "Laptop for Sam" in html_of(client.get(LIST))


def test_requested_for_accepts_only_people_of_own_organisation(client, customer, customer2, outsider):
    customer2.first_name, customer2.last_name = "Sam", "Jones"
    customer2.save()
    client.force_login(customer)
    response = client.post(NEW, {"short_description": "For someone else", "requested_for": outsider.username})
    assert response.status_code == 400
    assert "No one called “outsider” in your organisation can be named here." in html_of(response)
    assert not Incident.objects.exists()
    by_name = client.post(NEW, {"short_description": "For Sam", "requested_for": "sam jones"})
    assert by_name.status_code == 302
    assert Incident.objects.get().requested_for == customer2


def test_the_raise_form_lists_nobody_and_empty_requested_for_means_me(client, customer, customer2):
    customer2.first_name = "Sam"
    customer2.save()
    client.force_login(customer)
    html = html_of(client.get(NEW))
    assert 'name="requested_for" value=""' in html
    assert "<option" not in html
    assert customer2.get_full_name() not in html
    assert "leave it empty for yourself" in html
    response = client.post(NEW, {"short_description": "For me", "requested_for": ""})
    assert response.status_code == 302
    assert Incident.objects.get().requested_for is None


# --- My incidents ---------------------------------------------------------------------------


def test_list_shows_mine_as_requester_and_as_requested_for_not_customer2s(client, customer, customer2):
    make_incident(requester=customer, short_description="Mine as requester")
    make_incident(requester=customer2, short_description="Raised for me", requested_for=customer)
    make_incident(requester=customer2, short_description="Only customer2's")
    client.force_login(customer)
    response = client.get(LIST)
    assert response.status_code == 200
    html = html_of(response)
    assert "Mine as requester" in html
    assert "Raised for me" in html
    assert "Only customer2's" not in html
    assert "INC0000003" not in html
    assert html.index("INC0000002") < html.index("INC0000001")  # newest first
    assert (
        f'href="{reverse("portal:incident-detail", args=[Incident.objects.get(number="INC0000001").pk])}"'
        in html
    )


def test_list_filters_by_open_resolved_closed_and_all(client, customer, agent):
    make_incident(requester=customer, short_description="Still open")
    resolve(make_incident(requester=customer, short_description="Fixed already"), agent)
    workflows.incident_cancel(
        incident=make_incident(requester=customer, short_description="Not needed"), actor=customer
    )
    client.force_login(customer)
    expectations = {
        "open": {"Still open"},
        "resolved": {"Fixed already"},
        "closed": {"Not needed"},
        "all": {"Still open", "Fixed already", "Not needed"},
    }
    for state, shown in expectations.items():
        html = html_of(client.get(LIST, {"state": state}))
        for text in ("Still open", "Fixed already", "Not needed"):
            assert (text in html) is (text in shown), (state, text)


def test_list_with_an_unknown_state_filter_is_a_400_naming_it(client, customer):
    client.force_login(customer)
    response = client.get(LIST, {"state": "priority"})
    assert response.status_code == 400
    assert "Choose open, resolved, closed or all." in html_of(response)


def test_list_paginates_and_keeps_the_filter(client, customer):
    for n in range(30):
        make_incident(requester=customer, short_description=f"Incident {n}")
    client.force_login(customer)
    html = client.get(LIST, {"state": "open"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?state=open&amp;page=2"' in html


def test_list_query_count_is_fixed_whatever_the_number_of_incidents(
    client, customer, django_assert_max_num_queries
):
    for n in range(3):
        make_incident(requester=customer, short_description=f"Few {n}")
    client.force_login(customer)
    few = query_count(client, LIST, django_assert_max_num_queries)
    for n in range(22):
        make_incident(requester=customer, short_description=f"Many {n}")
    many = query_count(client, LIST, django_assert_max_num_queries)
    assert few == many


def test_home_links_my_incidents_to_their_page_and_offers_to_raise_one(client, customer):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    html = html_of(client.get(reverse("portal:home")))
    assert f'href="{url("incident-detail", incident)}"' in html
    assert f'href="{NEW}"' in html


# --- The incident page and who may reach it -------------------------------------------------


def test_another_customers_incident_is_404_everywhere(client, customer, customer2, agent):
    incident = make_incident(requester=customer2, short_description="Not yours")
    resolve(make_incident(requester=customer2, short_description="Also not yours"), agent)
    resolved = Incident.objects.get(short_description="Also not yours")
    client.force_login(customer)
    assert client.get(url("incident-detail", incident)).status_code == 404
    assert client.get(url("incident-edit", incident)).status_code == 404
    assert client.post(url("incident-edit", incident), {"short_description": "Mine now"}).status_code == 404
    assert client.post(url("incident-comment", incident), {"body": "Hello"}).status_code == 404
    assert client.post(url("incident-cancel", incident), {}).status_code == 404
    assert client.post(url("incident-csat", resolved), {"rating": "5"}).status_code == 404
    incident.refresh_from_db()
    assert incident.state == "new"
    assert incident.short_description == "Not yours"
    assert not IncidentNote.objects.exists()
    assert not CsatResponse.objects.exists()
    assert client.get(reverse("portal:incident-detail", args=[999999])).status_code == 404


def test_portal_pages_need_signing_in(client, customer):
    incident = make_incident(requester=customer)
    for path in (LIST, NEW, url("incident-detail", incident)):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_action_urls_accept_only_post(client, customer):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    for name in ("incident-comment", "incident-csat", "incident-cancel"):
        assert client.get(url(name, incident)).status_code == 405


def test_detail_shows_the_fields_a_customer_may_read(client, customer, customer2, agent):
    incident = make_incident(
        requester=customer, short_description="Mail bounces", description="Every mail to sales@ bounces."
    )
    services.incident_update(incident=incident, actor=customer, data={"requested_for": customer2})
    resolve(incident, agent)
    client.force_login(customer)
    html = html_of(client.get(url("incident-detail", incident)))
    for text in (incident.number, "Mail bounces", "Every mail to sales@ bounces.", "Resolved", "Workaround",
                 "Raised by", "customer", "Requested for", "customer2", "Opened"):  # fmt: skip
        assert text in html, text


SECRETS = (
    "zz-secret-agent",
    "ZZ Secret Group",
    "zz-secret-notes",
    "zz-secret-journal",
    "zz-secret-class",
    "P1",
    "critical",
    "Priority",
    "Assignee",
    "Assignment group",
    "Impact",
    "Urgency",
    "Work note",
    "Resolution notes",
    "1 — high",
)


def test_hidden_fields_never_appear_in_portal_html(client, customer, agent):
    secret_agent = make_user("zz-secret-agent", *PERSONAS[Persona.L2_AGENT])
    group = AssignmentGroup.objects.create(name="ZZ Secret Group")
    GroupMembership.objects.create(group=group, user=secret_agent)
    open_one = make_incident(requester=customer, short_description="Screen flickers")
    resolved_one = make_incident(requester=customer, short_description="Keyboard sticky")
    for incident in (open_one, resolved_one):
        services.incident_update(
            incident=incident,
            actor=agent,
            data={"impact": 1, "urgency": 1, "priority": "P1", "classification": "zz-secret-class"},
        )
        services.incident_assign(
            incident=incident, actor=agent, assignee=secret_agent, assignment_group=group
        )
        services.note_add(incident=incident, actor=secret_agent, kind="work_note", body="zz-secret-journal")
        services.note_add(incident=incident, actor=secret_agent, kind="comment", body="We are on it.")
    resolve(resolved_one, secret_agent, notes="zz-secret-notes")
    client.force_login(customer)
    pages = {
        "home": client.get(reverse("portal:home")),
        "list": client.get(LIST),
        "open detail": client.get(url("incident-detail", open_one)),
        "resolved detail": client.get(url("incident-detail", resolved_one)),
        "after comment": client.post(url("incident-comment", open_one), {"body": "Thanks!"}, follow=True),
        "after rating": client.post(url("incident-csat", resolved_one), {"rating": "4"}, follow=True),
        "refused rating": client.post(url("incident-csat", open_one), {"rating": "4"}),
        "refused cancel": client.post(url("incident-cancel", resolved_one), {}),
        "edit": client.get(url("incident-edit", open_one)),
    }
    assert "We are on it." in html_of(pages["open detail"])  # the page did render the conversation
    assert "Service desk" in html_of(pages["open detail"])
    for name, response in pages.items():
        assert response.status_code in (200, 400, 403), name
        html = html_of(response)
        for secret in SECRETS:
            assert secret not in html, (name, secret)


# --- The conversation -----------------------------------------------------------------------


def test_customer_comment_appears_in_the_conversation(client, customer, agent):
    incident = make_incident(requester=customer)
    services.note_add(incident=incident, actor=agent, kind="work_note", body="Agents only: check the fuser")
    client.force_login(customer)
    response = client.post(url("incident-comment", incident), {"body": "It smells of smoke too."})
    assert response.status_code == 302
    assert response["Location"] == url("incident-detail", incident) + "#conversation"
    note = IncidentNote.objects.get(kind="comment")
    assert (note.author, note.body) == (customer, "It smells of smoke too.")
    html = html_of(client.get(response["Location"]))
    assert "Your comment has been added." in html
    assert "It smells of smoke too." in html
    assert "Agents only: check the fuser" not in html


def test_empty_comment_is_refused_with_a_form_error(client, customer):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    response = client.post(url("incident-comment", incident), {"body": "  "})
    assert response.status_code == 400
    assert "Write your comment first." in html_of(response)
    assert not IncidentNote.objects.exists()


# --- Rating (CSAT) --------------------------------------------------------------------------


def test_csat_form_is_absent_before_resolution_and_a_post_is_refused_plainly(client, customer):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    html = html_of(client.get(url("incident-detail", incident)))
    assert url("incident-csat", incident) not in html
    assert 'name="rating"' not in html
    response = client.post(url("incident-csat", incident), {"rating": "5", "comment": "Great"})
    assert response.status_code == 403
    assert "You can rate an incident once it is resolved." in html_of(response)
    assert not CsatResponse.objects.exists()


def test_csat_after_resolution_submits_and_a_second_submit_updates_it(client, customer, agent):
    incident = make_incident(requester=customer)
    resolve(incident, agent)
    client.force_login(customer)
    html = html_of(client.get(url("incident-detail", incident)))
    assert "How did we do?" in html
    assert 'type="radio" name="rating"' in html
    response = client.post(url("incident-csat", incident), {"rating": "2", "comment": "Slow"}, follow=True)
    assert "Thank you for rating how we handled this incident." in html_of(response)
    assert "you rated this incident 2 out of 5" in html_of(response)
    response = client.post(
        url("incident-csat", incident), {"rating": "5", "comment": "Sorted now"}, follow=True
    )
    html = html_of(response)
    assert "Your rating has been updated." in html
    assert "Update my rating" in html
    response = CsatResponse.objects.get()
    assert (response.actor, response.rating, response.comment) == (customer, 5, "Sorted now")


def test_csat_rating_outside_one_to_five_is_a_400(client, customer, agent):
    incident = make_incident(requester=customer)
    resolve(incident, agent)
    client.force_login(customer)
    for rating in ("0", "6", "", "five"):
        response = client.post(url("incident-csat", incident), {"rating": rating})
        assert response.status_code == 400, rating
        assert "Choose a rating from 1 (very poor) to 5 (excellent)." in html_of(response)
    assert not CsatResponse.objects.exists()


# --- Cancelling -----------------------------------------------------------------------------


def test_customer_cancels_an_open_incident(client, customer):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    assert url("incident-cancel", incident) in html_of(client.get(url("incident-detail", incident)))
    response = client.post(url("incident-cancel", incident), {"reason": "It works again"}, follow=True)
    incident.refresh_from_db()
    assert incident.state == "cancelled"
    html = html_of(response)
    assert f"{incident.number} has been cancelled." in html
    assert "[Cancelled] It works again" in html
    assert url("incident-cancel", incident) not in html


def test_cancel_is_refused_once_resolved(client, customer, agent):
    incident = make_incident(requester=customer)
    resolve(incident, agent)
    client.force_login(customer)
    assert url("incident-cancel", incident) not in html_of(client.get(url("incident-detail", incident)))
    response = client.post(url("incident-cancel", incident), {})
    assert response.status_code == 400  # the state forbids it: a 400, as every door answers
    html = html_of(response)
    assert "reopen" not in html  # the agents' transitions are not offered to the customer
    assert f"{incident.number} is resolved and can no longer be cancelled." in html
    incident.refresh_from_db()
    assert incident.state == "resolved"


# --- Editing --------------------------------------------------------------------------------


def test_customer_edits_short_description_and_description_while_new(client, customer):
    incident = make_incident(requester=customer, short_description="Typo in titel")
    client.force_login(customer)
    assert url("incident-edit", incident) in html_of(client.get(url("incident-detail", incident)))
    response = client.post(
        url("incident-edit", incident),
        {"short_description": "Typo in title", "description": "Now described", "version": incident.version},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.short_description, incident.description) == ("Typo in title", "Now described")


def test_once_started_only_requested_for_may_be_changed(client, customer, customer2, agent):
    incident = make_incident(requester=customer, short_description="Original words")
    workflows.incident_start(incident=incident, actor=agent)
    incident.refresh_from_db()
    client.force_login(customer)
    html = html_of(client.get(url("incident-edit", incident)))
    assert 'name="requested_for"' in html
    assert 'name="short_description"' not in html
    response = client.post(
        url("incident-edit", incident),
        {"short_description": "Sneaky rewrite", "requested_for": customer2.pk, "version": incident.version},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.short_description == "Original words"
    assert incident.requested_for == customer2


def test_edit_requested_for_outside_own_organisation_is_refused(client, customer, outsider):
    incident = make_incident(requester=customer)
    client.force_login(customer)
    response = client.post(
        url("incident-edit", incident),
        {
            "short_description": incident.short_description,
            "requested_for": outsider.pk,
            "version": incident.version,
        },
    )
    assert response.status_code == 400
    assert f"No one called “{outsider.pk}” in your organisation can be named here." in html_of(response)
    incident.refresh_from_db()
    assert incident.requested_for is None


def test_edit_over_someone_elses_change_is_refused_as_a_conflict(client, customer):
    incident = make_incident(requester=customer, short_description="First words")
    stale_version = incident.version
    services.incident_update(incident=incident, actor=customer, data={"description": "Changed meanwhile"})
    client.force_login(customer)
    response = client.post(
        url("incident-edit", incident),
        {"short_description": "Second words", "description": "Mine", "version": stale_version},
    )
    assert response.status_code == 409
    assert "Someone else changed this record after you opened it." in html_of(response)
    incident.refresh_from_db()
    assert (incident.short_description, incident.description) == ("First words", "Changed meanwhile")


def test_edit_of_a_resolved_incident_offers_only_requested_for(client, customer, agent):
    incident = make_incident(requester=customer)
    resolve(incident, agent)
    client.force_login(customer)
    # requested_for stays writable in every state (SPEC §4); the texts only while new.
    html = html_of(client.get(url("incident-edit", incident)))
    assert 'name="requested_for"' in html
    assert 'name="description"' not in html


def test_a_follower_reads_the_incident_but_may_not_edit_comment_or_cancel(client, customer, customer2, agent):
    incident = make_incident(requester=customer, short_description="Shared with a follower")
    services.follower_add(incident=incident, actor=agent, user=customer2)
    client.force_login(customer2)
    html = html_of(client.get(url("incident-detail", incident)))
    assert "Shared with a follower" in html
    for name in ("incident-edit", "incident-comment", "incident-cancel"):
        assert url(name, incident) not in html, name
    response = client.get(url("incident-edit", incident), follow=True)
    assert "can no longer be changed here" in html_of(response)
    response = client.post(url("incident-comment", incident), {"body": "Me too"})
    assert response.status_code == 403
    assert "Only the people this incident concerns can comment on it." in html_of(response)
    response = client.post(url("incident-cancel", incident), {})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.state == "new"
    assert not IncidentNote.objects.exists()


# --- Query counts ---------------------------------------------------------------------------


def test_detail_query_count_is_fixed_whatever_the_number_of_comments(
    client, customer, customer2, agent, django_assert_max_num_queries
):
    incident = make_incident(requester=customer, requested_for=customer2)
    authors = (customer, customer2, agent)  # shown as "You", by name, and as the service desk
    for n in range(2):
        services.note_add(incident=incident, actor=authors[n % 3], kind="comment", body=f"c{n}")
    client.force_login(customer)
    path = url("incident-detail", incident)
    few = query_count(client, path, django_assert_max_num_queries)
    for n in range(18):
        services.note_add(incident=incident, actor=authors[n % 3], kind="comment", body=f"m{n}")
    many = query_count(client, path, django_assert_max_num_queries)
    assert few == many
    html = html_of(client.get(path))
    assert "m17" in html
    assert "customer2" in html
