"""Knowledge on other pages: the desk incident page's panel (suggested articles, linked ones,
link / unlink, promote a resolution to a draft) and the portal's "raise an incident" form
("before you raise it": suggestions as the customer types, a search without JavaScript).

The incident app never imports knowledge: both panels come through ``itsm.views.panels``."""

import re
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse

from changes.models import Change
from conftest import make_user
from incidents import workflows as incident_workflows
from itsm.models import AuditEntry
from itsm.roles import Role
from knowledge.models import Article, ArticleState, Audience
from knowledge.views import incident as incident_views
from tests.changes.factories import make_change
from tests.incidents.factories import make_incident
from tests.itsm.factories import attach_file
from tests.knowledge.factories import make_article, published_article

pytestmark = pytest.mark.django_db
S = ArticleState
RAISE = reverse("portal:incident-new")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def incident_page(incident) -> str:
    return reverse("desk:incident-detail", args=[incident.pk])


def panel_of(response) -> dict:
    shown = {panel.name: panel for panel in response.context["side_panels"]}
    return shown["knowledge"].context


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def articles(agent, manager):
    return {
        "printer": published_article(
            by=agent, publisher=manager, title="Printer offline", body="Restart the printer spooler.", category="Printing"
        ),
        "runbook": published_article(
            by=agent, publisher=manager, title="Printer fleet runbook", audience=Audience.AGENTS, body="printer"
        ),
        "draft": make_article(by=agent, title="Printer draft", body="printer"),
        "vpn": published_article(by=agent, publisher=manager, title="VPN drops", body="Reconnect the VPN."),
    }


@pytest.fixture
def incident(customer):
    return make_incident(requester=customer, short_description="Printer shows offline", description="Cannot print")


def resolved(incident, agent):
    incident_workflows.incident_start(incident=incident, actor=agent)
    return incident_workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="Restarted the spooler service."
    )


# --- The desk incident page --------------------------------------------------------------------


def suggestions_url(incident) -> str:
    return reverse("desk:incident-article-suggestions", args=[incident.pk])


def suggested(client, incident) -> list[str]:
    """The titles the incident page's suggestions (fetched by htmx once the page is shown) list."""
    response = client.get(suggestions_url(incident), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return [hit.article.title for hit in response.context["panel"]["suggestions"]]


def test_the_incident_page_suggests_matching_published_articles(client, l1, incident, articles):
    client.force_login(l1)
    titles = suggested(client, incident)
    assert "Printer offline" in titles and "Printer fleet runbook" in titles
    assert "Printer draft" not in titles and "VPN drops" not in titles


def test_the_incident_page_fetches_its_suggestions_once_it_is_shown(client, l1, incident, articles):
    # Ranking the articles costs more than the rest of the page: it comes in its own request.
    client.force_login(l1)
    response = client.get(incident_page(incident))
    assert panel_of(response)["suggestions"] is None
    page = html_of(response)
    assert "Suggested articles" in page and "Printer offline" not in page
    assert f'hx-get="{suggestions_url(incident)}" hx-trigger="intersect once"' in page
    fragment = client.get(suggestions_url(incident), HTTP_HX_REQUEST="true")
    assert '<div id="kb-suggestions">' in html_of(fragment) and "Printer offline" in html_of(fragment)
    assert "HX-Request" in fragment["Vary"]


def test_without_javascript_a_link_opens_the_page_with_its_suggestions(client, l1, incident, articles):
    client.force_login(l1)
    opened = f"{incident_page(incident)}?open=suggestions#knowledge"
    assert f'href="{opened}"' in html_of(client.get(incident_page(incident)))
    response = client.get(f"{incident_page(incident)}?open=suggestions")
    assert "Printer offline" in [hit.article.title for hit in panel_of(response)["suggestions"]]
    assert "Printer offline" in html_of(response)
    # The fragment's address, opened as a page, leads there too.
    assert client.get(suggestions_url(incident))["Location"] == opened


def test_the_suggestions_are_the_desks_and_of_an_incident_the_reader_may_read(
    client, l1, incident, articles, customer
):
    client.force_login(customer)  # reads the articles for everyone, and its own incident, not the desk
    assert client.get(suggestions_url(incident), HTTP_HX_REQUEST="true").status_code == 403
    # A desk user who reads incidents only as self-service: another's incident is not found,
    # as a missing one is, with htmx or without (no redirect to a page it would not get).
    client.force_login(make_user("pat", Role.PLATFORM_AGENT))
    missing = reverse("desk:incident-article-suggestions", args=[incident.pk + 1000])
    for url in (suggestions_url(incident), missing):
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 404
        assert client.get(url).status_code == 404


def test_the_suggestions_cost_a_fixed_few_queries_whatever_is_linked_and_found(
    client, l1, incident, articles, agent, manager, django_assert_max_num_queries
):
    # Session, user with roles, incident, linked articles, the ranking (two tiers on PostgreSQL
    # when the titles do not fill the list).
    client.force_login(l1)
    client.get(suggestions_url(incident), HTTP_HX_REQUEST="true")
    with django_assert_max_num_queries(6) as few:
        client.get(suggestions_url(incident), HTTP_HX_REQUEST="true")
    for i in range(8):
        article = published_article(by=agent, publisher=manager, title=f"Printer tip {i}", body="printer offline")
        if i % 2:
            article.incidents.add(incident)
    with django_assert_max_num_queries(6) as many:
        response = client.get(suggestions_url(incident), HTTP_HX_REQUEST="true")
    assert len(response.context["panel"]["suggestions"]) == incident_views.SUGGESTED
    assert len(many) <= len(few)


def test_a_reader_of_the_incident_as_self_service_is_not_told_which_articles_answer_it(client, agent, manager):
    # knowledge_articles is the desk's working, hidden from a self-service reader of the incident:
    # the panel lists no linked article and leaves none out of the suggestions.
    pat = make_user("pat", Role.PLATFORM_AGENT)
    own = make_incident(requester=pat, short_description="Printer offline again")
    answer = published_article(by=agent, publisher=manager, title="Printer offline", body="Restart the spooler.")
    answer.incidents.add(own)
    client.force_login(pat)
    response = client.get(incident_page(own))
    assert response.status_code == 200
    assert panel_of(response)["linked"] == [] and not panel_of(response)["may_link"]
    assert "Linked articles" not in html_of(response)
    fragment = html_of(client.get(suggestions_url(own), HTTP_HX_REQUEST="true"))
    assert "Printer offline" in fragment and "No other" not in fragment and "Link as the answer" not in fragment


def test_an_agent_links_a_suggested_article_and_it_moves_to_the_linked_list(client, l1, incident, articles):
    client.force_login(l1)
    article = articles["printer"]
    response = client.post(
        reverse("desk:incident-article-link", args=[incident.pk]), {"article": article.pk}, follow=True
    )
    assert f"{article.number} is linked to {incident.number} as its answer." in said(response)
    assert list(article.incidents.all()) == [incident]
    panel = panel_of(response)
    assert [a.pk for a in panel["linked"]] == [article.pk]
    assert article.title not in suggested(client, incident)
    assert AuditEntry.objects.filter(object_id=incident.pk).exists()


def test_an_agent_unlinks_an_article(client, l1, incident, articles):
    client.force_login(l1)
    article = articles["printer"]
    client.post(reverse("desk:incident-article-link", args=[incident.pk]), {"article": article.pk})
    client.post(reverse("desk:incident-article-unlink", args=[incident.pk]), {"article": article.pk})
    assert not article.incidents.exists()


def test_a_draft_cannot_be_linked_and_the_refusal_is_shown_on_the_incident_page(client, agent, incident, articles):
    client.force_login(agent)
    response = client.post(reverse("desk:incident-article-link", args=[incident.pk]), {"article": articles["draft"].pk})
    assert response.status_code == 400
    assert "Only a published article can be linked to an incident." in html_of(response)
    assert not articles["draft"].incidents.exists()


def test_linking_an_article_the_agent_may_not_read_is_404(client, l1, incident, articles):
    client.force_login(l1)
    response = client.post(reverse("desk:incident-article-link", args=[incident.pk]), {"article": articles["draft"].pk})
    assert response.status_code == 404
    response = client.post(reverse("desk:incident-article-link", args=[incident.pk]), {"article": "nope"})
    assert response.status_code == 400


def test_a_desk_user_without_incident_management_sees_no_link_button_and_may_not_link(
    client, organisation, customer, articles
):
    reader = make_user("reader", Role.PLATFORM_AGENT, organisation=organisation)
    incident = make_incident(requester=reader, short_description="Printer offline")
    client.force_login(reader)
    response = client.get(incident_page(incident))
    assert response.status_code == 200
    assert panel_of(response)["may_link"] is False
    assert "Link as the answer" not in html_of(response)
    response = client.post(
        reverse("desk:incident-article-link", args=[incident.pk]), {"article": articles["printer"].pk}
    )
    assert response.status_code == 403
    assert not articles["printer"].incidents.exists()


def test_promote_is_offered_only_for_a_resolved_or_closed_incident_to_knowledge_editors(
    client, agent, l1, incident, articles
):
    client.force_login(agent)
    assert panel_of(client.get(incident_page(incident)))["may_promote"] is False
    resolved(incident, agent)
    response = client.get(incident_page(incident))
    assert panel_of(response)["may_promote"] is True and "Promote to knowledge" in html_of(response)
    client.force_login(l1)  # an agent who is no knowledge editor
    assert panel_of(client.get(incident_page(incident)))["may_promote"] is False


def test_promoting_a_resolution_drafts_a_linked_article_and_opens_the_editor(client, agent, incident):
    resolved(incident, agent)
    client.force_login(agent)
    response = client.post(reverse("desk:incident-promote", args=[incident.pk]))
    article = Article.objects.get(source_incident=incident)
    assert response.status_code == 302 and response.url == reverse("desk:article-edit", args=[article.pk])
    assert article.state == S.DRAFT and article.title == "Printer shows offline"
    assert "Restarted the spooler service." in article.body and "Cannot print" in article.body
    assert list(article.incidents.all()) == [incident]
    editor = client.get(response.url)
    assert editor.context["form"].initial["title"] == "Printer shows offline"
    # Back on the incident: the draft is linked, and the button gives way to a link to it.
    page = client.get(incident_page(incident))
    assert panel_of(page)["promoted"].pk == article.pk
    text = html_of(page)
    assert "Promote to knowledge" not in text
    assert f"Its resolution is promoted to <a href=\"{reverse('desk:article-detail', args=[article.pk])}\">" in text


def test_promoting_an_open_incident_is_refused_with_a_400_naming_its_state(client, agent, incident):
    client.force_login(agent)
    response = client.post(reverse("desk:incident-promote", args=[incident.pk]))
    assert response.status_code == 400
    assert "Only a resolved or closed incident" in html_of(response)
    assert not Article.objects.exists()


def test_promoting_is_404_for_an_agent_who_may_not_write_articles(client, l1, agent, incident):
    resolved(incident, agent)
    client.force_login(l1)
    assert client.post(reverse("desk:incident-promote", args=[incident.pk])).status_code == 404
    assert not Article.objects.exists()


def test_the_incident_page_with_the_panel_costs_a_fixed_few_more_queries(
    client, l1, incident, articles, agent, manager, django_assert_max_num_queries
):
    client.force_login(l1)
    path = incident_page(incident)
    client.get(path)
    with django_assert_max_num_queries(60) as none_linked:
        client.get(path)
    published_article(by=agent, publisher=manager, title="Printer tip", body="printer").incidents.add(incident)
    with django_assert_max_num_queries(60) as few:
        client.get(path)
    for i in range(6):
        article = published_article(by=agent, publisher=manager, title=f"Printer tip {i}", body="printer")
        article.incidents.add(incident)
    with django_assert_max_num_queries(60) as many:
        client.get(path)
    assert len(many) == len(few)
    # No article linked: the page's one statement of lists said so, and the panel reads none.
    assert len(none_linked) == len(few) - 1


def test_an_incident_nothing_points_at_costs_no_query_for_its_changes_articles_or_files(
    client, l1, incident, agent, manager, customer, settings, tmp_path, django_assert_max_num_queries
):
    # The page's one statement of lists also asks whether any change, linked article or file
    # points at the incident (itsm.prefetch.Probe): the panels read only what exists.
    client.force_login(l1)
    path = incident_page(incident)
    client.get(path)
    with django_assert_max_num_queries(60) as bare:
        client.get(path)
    change = make_change(by=agent, short_description="Replace the print server")
    Change.objects.filter(pk=change.pk).update(incident=incident)  # raised for it
    published_article(by=agent, publisher=manager, title="Badge reader calibration", body="badge").incidents.add(incident)
    settings.MEDIA_ROOT = tmp_path / "media"
    attach_file(incident, by=customer, name="spooler.log")
    with django_assert_max_num_queries(60) as pointed_at:
        response = client.get(path)
    assert len(pointed_at) == len(bare) + 3
    page = html_of(response)
    assert change.number in page and "Badge reader calibration" in page and "spooler.log" in page


def test_a_change_linked_to_the_incident_as_required_shows_in_its_changes_panel(client, l1, incident, agent):
    client.force_login(l1)
    change = make_change(by=agent, short_description="Replace the print server")
    incident.changes_required.add(change)  # linked, not raised for it
    response = client.get(incident_page(incident))
    changes = {panel.name: panel for panel in response.context["side_panels"]}["changes"].context["changes"]
    assert [row.pk for row in changes] == [change.pk]


@pytest.mark.parametrize("titles_fill", [False, True])
def test_the_panel_costs_one_query_for_the_linked_articles_and_one_for_the_suggestions_two_with_the_body_tier(
    rf, l1, incident, articles, agent, manager, titles_fill, django_assert_max_num_queries
):
    # The ranking queries read the suggested articles and their snippets themselves: on
    # PostgreSQL the title tier, then the body tier only when the titles do not fill the list.
    for i in range(incident_views.SUGGESTED if titles_fill else 0):
        published_article(by=agent, publisher=manager, title=f"Printer tip {i}", body="Print again.")
    request = rf.get(incident_page(incident))
    request.user = l1
    incident_views.incident_panel(request, incident, suggest=True)  # the roles and the words' stems, asked once
    suggesting = 1 if titles_fill or connection.vendor != "postgresql" else 2
    with django_assert_max_num_queries(1 + suggesting):
        panel = incident_views.incident_panel(request, incident, suggest=True)
    assert len(panel["suggestions"]) == (incident_views.SUGGESTED if titles_fill else 2)
    assert all("<mark>" in hit.snippet.lower() for hit in panel["suggestions"])


# --- The portal's raise form -------------------------------------------------------------------


def test_the_raise_form_carries_the_suggestion_panel_and_its_script(client, customer, articles):
    client.force_login(customer)
    response = client.get(RAISE)
    html = html_of(response)
    assert "Before you raise it: these articles may help" in html
    assert 'data-suggest-url="/api/v1/articles/suggest/"' in html
    assert 'src="/static/knowledge/suggest.js"' in html
    # Without JavaScript: a plain search of the knowledge base.
    assert f'action="{reverse("portal:knowledge")}"' in html


def test_a_refused_raise_lists_the_suggestions_for_what_was_typed(client, customer, articles):
    client.force_login(customer)
    response = client.post(RAISE, {"short_description": "", "description": "my printer is offline again"})
    assert response.status_code == 400
    titles = [hit.article.title for hit in response.context["panels"][0].context["suggestions"]]
    assert titles == ["Printer offline"]  # never the agents-only runbook or the draft
    assert reverse("portal:knowledge-article", args=[articles["printer"].pk]) in html_of(response)


def test_the_fresh_raise_form_panel_costs_no_query(client, customer, articles, django_assert_max_num_queries):
    client.force_login(customer)
    client.get(RAISE)
    with django_assert_max_num_queries(6) as captured:
        client.get(RAISE)
    assert not any("knowledge_article" in query["sql"] for query in captured.captured_queries)


def test_the_suggest_endpoint_the_panel_calls_answers_a_customer_with_what_it_may_read(client, customer, articles):
    client.force_login(customer)
    response = client.get("/api/v1/articles/suggest/", {"text": "printer offline"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    rows = body if isinstance(body, list) else body["results"]
    assert [row["title"] for row in rows] == ["Printer offline"]
    assert {"id", "title"} <= set(rows[0])
