"""Knowledge services: who writes and edits what, optimistic locking, feedback counts, promoting
an incident's resolution, linking articles to incidents; every write journaled."""

import pytest

from incidents import workflows as incident_workflows
from itsm.audit import entries_for
from itsm.errors import Conflict, InvalidInput, NotAllowed, NotFound
from knowledge import services, workflows
from knowledge.models import Article, ArticleFeedback, ArticleState, Audience
from tests.incidents.factories import make_incident
from tests.knowledge.factories import make_article, published_article

pytestmark = pytest.mark.django_db
S = ArticleState


def resolved_incident(customer, agent, **data):
    incident = make_incident(
        requester=customer, by=agent, short_description="Outlook crashes on start", description="Since the update.",
        category="Software", **data,
    )  # fmt: skip
    return incident_workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved",
        resolution_notes="Removed the broken add-in.",
    )  # fmt: skip


def test_an_editor_creates_a_draft_with_a_kb_number_and_is_its_author_and_owner(agent):
    first = services.article_create(actor=agent, data={"title": "One"})
    second = services.article_create(actor=agent, data={"title": "Two"})
    assert (first.number, second.number) == ("KB0000001", "KB0000002")
    assert first.state == S.DRAFT and first.author == agent and first.owner == agent


@pytest.mark.parametrize("who", ["customer", "l1"])
def test_only_knowledge_editors_write_articles(request, who):
    with pytest.raises(NotAllowed):
        services.article_create(actor=request.getfixturevalue(who), data={"title": "Mine"})
    assert not Article.objects.exists()


def test_the_body_is_rendered_to_sanitised_html_on_every_save(agent):
    article = services.article_create(actor=agent, data={"title": "T", "body": "**bold** <script>x</script>"})
    assert article.body_html == "<p><strong>bold</strong> </p>"
    article = services.article_update(article=article, actor=agent, data={"body": "[a](javascript:alert(1))"})
    assert "javascript" not in article.body_html and "<a" in article.body_html


def test_an_editor_edits_a_draft_but_not_once_it_is_submitted(agent, manager):
    article = make_article(by=agent, state=S.IN_REVIEW)
    with pytest.raises(NotAllowed):
        services.article_update(article=article, actor=agent, data={"title": "Changed"})
    article = services.article_update(article=article, actor=manager, data={"title": "Tidied by the reviewer"})
    assert article.title == "Tidied by the reviewer"


def test_a_published_article_is_not_edited_in_place_even_by_a_manager(agent, manager):
    article = published_article(by=agent, publisher=manager)
    with pytest.raises(NotAllowed):
        services.article_update(article=article, actor=manager, data={"title": "Changed"})


def test_a_stale_edit_is_refused_with_a_conflict(agent):
    article = make_article(by=agent)
    assert article.version == 1
    article = services.article_update(article=article, actor=agent, data={"title": "Second"}, expected_version=1)
    assert article.version == 2
    with pytest.raises(Conflict):
        services.article_update(article=article, actor=agent, data={"title": "Third"}, expected_version=1)
    assert Article.objects.get(pk=article.pk).title == "Second"


def test_state_and_counters_are_not_written_by_an_edit(agent):
    article = make_article(by=agent)
    for field in ("state", "helpful_count", "body_html", "published_version", "source_incident"):
        with pytest.raises(InvalidInput) as refused:
            services.article_update(article=article, actor=agent, data={field: "x"})
        assert field in refused.value.fields


def test_the_owner_is_a_knowledge_editor(agent, l1, lead):
    with pytest.raises(InvalidInput) as refused:
        services.article_create(actor=agent, data={"title": "T", "owner": l1})
    assert "owner" in refused.value.fields
    assert services.article_create(actor=agent, data={"title": "T", "owner": lead}).owner == lead


def test_only_a_knowledge_manager_deletes(agent, manager):
    article = make_article(by=agent)
    with pytest.raises(NotAllowed):
        services.article_delete(article=article, actor=agent)
    services.article_delete(article=article, actor=manager)
    assert not Article.objects.exists()


# --- Feedback --------------------------------------------------------------------------------


def test_one_vote_per_reader_a_second_replaces_it_and_the_counts_stay_exact(agent, manager, customer, customer2):
    article = published_article(by=agent, publisher=manager)
    version = article.version
    services.article_feedback(article=article, actor=customer, helpful=True)
    services.article_feedback(article=article, actor=customer2, helpful=True, comment="Thanks")
    services.article_feedback(article=article, actor=customer, helpful=False, comment="Still broken")
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.get(article=article, user=customer).comment == "Still broken"
    assert ArticleFeedback.objects.count() == 2
    assert article.version == version  # a vote is not an edit of the article


def test_feedback_only_on_a_published_article_the_reader_reads(agent, manager, customer):
    with pytest.raises(NotFound):
        services.article_feedback(article=make_article(by=agent), actor=customer, helpful=True)
    agents_only = published_article(by=agent, publisher=manager, audience=Audience.AGENTS)
    with pytest.raises(NotFound):
        services.article_feedback(article=agents_only, actor=customer, helpful=True)
    with pytest.raises(NotAllowed):
        services.article_feedback(article=make_article(by=agent), actor=agent, helpful=True)


@pytest.mark.parametrize(("helpful", "comment", "field"), [("yes", "", "helpful"), (None, "", "helpful"),
                                                           (True, 5, "comment"), (True, "x" * 2001, "comment")])
def test_bad_feedback_names_the_field(agent, manager, customer, helpful, comment, field):
    article = published_article(by=agent, publisher=manager)
    with pytest.raises(InvalidInput) as refused:
        services.article_feedback(article=article, actor=customer, helpful=helpful, comment=comment)
    assert field in refused.value.fields
    assert not ArticleFeedback.objects.exists()


# --- Promote an incident's resolution --------------------------------------------------------


def test_a_resolved_incident_becomes_a_prefilled_draft_linked_to_it(customer, agent):
    incident = resolved_incident(customer, agent)
    article = services.article_from_incident(incident=incident, actor=agent)
    assert article.state == S.DRAFT and article.author == agent
    assert article.title == "Outlook crashes on start" and article.category == "Software"
    assert "Since the update." in article.body and "Removed the broken add-in." in article.body
    assert article.source_incident == incident and list(article.incidents.all()) == [incident]
    assert any(e.field == "knowledge_articles" for e in entries_for(agent, incident))
    assert any(e.field == "source_incident" for e in entries_for(agent, article))


def test_an_open_incident_is_not_promoted_and_the_state_is_named(customer, agent):
    incident = make_incident(requester=customer)
    with pytest.raises(InvalidInput) as refused:
        services.article_from_incident(incident=incident, actor=agent)
    assert "state" in refused.value.fields
    assert not Article.objects.exists()


def test_promoting_needs_knowledge_editing(customer, agent, l1):
    incident = resolved_incident(customer, agent)
    with pytest.raises(NotAllowed):
        services.article_from_incident(incident=incident, actor=l1)


def test_a_customer_cannot_promote_even_its_own_incident(customer, agent):
    incident = resolved_incident(customer, agent)
    with pytest.raises(NotAllowed):
        services.article_from_incident(incident=incident, actor=customer)


def test_a_customer_does_not_see_the_promotion_in_its_incident_journal(customer, agent):
    incident = resolved_incident(customer, agent)
    services.article_from_incident(incident=incident, actor=agent)
    assert not any(e.field == "knowledge_articles" for e in entries_for(customer, incident))


# --- Linking ---------------------------------------------------------------------------------


def test_an_agent_links_a_published_article_to_an_incident_and_unlinks_it(customer, agent, manager, l1):
    article = published_article(by=agent, publisher=manager)
    incident = make_incident(requester=customer)
    services.article_link_incident(article=article, incident=incident, actor=l1)
    services.article_link_incident(article=article, incident=incident, actor=l1)  # again: nothing new
    assert list(incident.knowledge_articles.all()) == [article]
    assert [e.new_value for e in entries_for(l1, incident) if e.field == "knowledge_articles"] == [article.number]
    services.article_unlink_incident(article=article, incident=incident, actor=l1)
    assert not incident.knowledge_articles.exists()


def test_only_published_articles_are_linked(customer, agent):
    incident = make_incident(requester=customer)
    with pytest.raises(InvalidInput):
        services.article_link_incident(article=make_article(by=agent), incident=incident, actor=agent)


def test_customers_do_not_link_articles(customer, agent, manager):
    article = published_article(by=agent, publisher=manager)
    incident = make_incident(requester=customer)
    with pytest.raises(NotAllowed):
        services.article_link_incident(article=article, incident=incident, actor=customer)


def test_retired_article_can_still_be_unlinked(customer, agent, manager, l1):
    article = published_article(by=agent, publisher=manager)
    incident = make_incident(requester=customer)
    services.article_link_incident(article=article, incident=incident, actor=agent)
    workflows.article_retire(article=article, actor=manager)
    services.article_unlink_incident(article=article, incident=incident, actor=agent)
    assert not incident.knowledge_articles.exists()
