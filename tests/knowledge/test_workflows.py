"""The article state machine (``knowledge.workflows``): draft → in_review → published → retired,
sent back to draft from review, and revisions that never take a published article offline; each
publication kept as a version."""

import pytest

from itsm.audit import entries_for
from itsm.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from knowledge import selectors, services, workflows
from knowledge.models import Article, ArticleState, ArticleVersion
from tests.knowledge.factories import make_article, published_article, revised_article

pytestmark = pytest.mark.django_db
S = ArticleState


def test_an_editor_submits_a_draft_and_a_manager_publishes_it_as_version_one(agent, manager):
    article = make_article(by=agent)
    article = workflows.article_submit(article=article, actor=agent)
    assert article.state == S.IN_REVIEW and article.submitted_at is not None
    article = workflows.article_publish(article=article, actor=manager)
    assert article.state == S.PUBLISHED
    assert article.published_by == manager and article.published_at is not None
    assert article.published_version == 1
    assert list(article.versions.values_list("number", "title")) == [(1, article.title)]


def test_an_editor_cannot_publish_even_its_own_article(agent):
    article = make_article(by=agent, state=S.IN_REVIEW)
    with pytest.raises(NotAllowed):
        workflows.article_publish(article=article, actor=agent)
    article.refresh_from_db()
    assert article.state == S.IN_REVIEW


def test_a_draft_must_be_submitted_before_it_is_published(manager):
    article = make_article(by=manager)
    with pytest.raises(TransitionNotAllowed) as refused:
        workflows.article_publish(article=article, actor=manager)
    assert refused.value.fields["state"] == ["draft"]
    assert refused.value.fields["allowed"] == ["submit"]


def test_an_empty_draft_cannot_be_submitted(agent):
    article = make_article(by=agent, body="   ")
    with pytest.raises(InvalidInput) as refused:
        workflows.article_submit(article=article, actor=agent)
    assert "body" in refused.value.fields


def test_a_manager_sends_an_article_back_with_notes(agent, manager):
    article = make_article(by=agent, state=S.IN_REVIEW)
    article = workflows.article_send_back(article=article, actor=manager, review_notes="Add screenshots.")
    assert article.state == S.DRAFT and article.review_notes == "Add screenshots."
    article = workflows.article_submit(article=article, actor=agent)
    assert article.review_notes == ""


def test_retiring_a_published_article(agent, manager):
    article = published_article(by=agent, publisher=manager)
    article = workflows.article_retire(article=article, actor=manager)
    assert article.state == S.RETIRED and article.retired_at is not None
    with pytest.raises(NotAllowed):
        workflows.article_retire(article=published_article(by=agent, publisher=manager), actor=agent)


def test_a_customer_cannot_see_a_draft_to_submit_it(agent, customer):
    article = make_article(by=agent)
    with pytest.raises(NotFound):
        workflows.article_submit(article=article, actor=customer)


def test_transitions_are_journaled(agent, manager):
    article = published_article(by=agent, publisher=manager)
    transitions = [(e.transition, e.new_value) for e in entries_for(manager, article) if e.transition]
    assert transitions == [("submit", "in_review"), ("publish", "published")]


# --- Revisions -------------------------------------------------------------------------------


def test_a_revision_is_a_draft_while_the_published_article_stays_online(agent, manager, customer):
    live = published_article(by=agent, publisher=manager, title="Reset your password")
    revision = workflows.article_revise(article=live, actor=agent)
    assert revision.state == S.DRAFT and revision.revision_of == live
    assert revision.number == live.number and str(revision).startswith(f"{live.number} (revision)")
    services.article_update(article=revision, actor=agent, data={"title": "Reset your password (new portal)"})
    live.refresh_from_db()
    assert live.state == S.PUBLISHED and live.title == "Reset your password"
    assert [hit.article for hit in selectors.search(customer, "password")] == [live]


def test_publishing_a_revision_updates_the_live_article_and_keeps_each_version(agent, manager):
    live = published_article(by=agent, publisher=manager, title="Reset your password", body="Old steps.")
    live_pk = live.pk
    live = revised_article(live=live, by=agent, publisher=manager, title="Reset your password v2", body="New steps.")
    assert live.pk == live_pk and live.state == S.PUBLISHED
    assert (live.title, live.body, live.published_version) == ("Reset your password v2", "New steps.", 2)
    assert "<p>New steps.</p>" in live.body_html
    assert list(live.versions.order_by("number").values_list("number", "body")) == [
        (1, "Old steps."),
        (2, "New steps."),
    ]
    assert not Article.objects.filter(revision_of=live).exists()


def test_one_revision_at_a_time(agent, manager):
    live = published_article(by=agent, publisher=manager)
    workflows.article_revise(article=live, actor=agent)
    with pytest.raises(InvalidInput) as refused:
        workflows.article_revise(article=live, actor=manager)
    assert "revision" in refused.value.fields


def test_only_a_published_article_is_revised(agent):
    with pytest.raises(TransitionNotAllowed):
        workflows.article_revise(article=make_article(by=agent), actor=agent)


def test_a_revision_of_a_retired_article_cannot_be_published(agent, manager):
    live = published_article(by=agent, publisher=manager)
    revision = revised_article(live=live, by=agent, state=S.IN_REVIEW, title="Changed")
    workflows.article_retire(article=live, actor=manager)
    with pytest.raises(InvalidInput) as refused:
        workflows.article_publish(article=revision, actor=manager)
    assert "revision_of" in refused.value.fields
    assert Article.objects.get(pk=revision.pk).state == S.IN_REVIEW


def test_restoring_an_old_version_starts_a_revision_with_its_content(agent, manager):
    live = published_article(by=agent, publisher=manager, title="First", body="First body.")
    live = revised_article(live=live, by=agent, publisher=manager, title="Second", body="Second body.")
    revision = workflows.article_restore(article=live, actor=agent, version=1)
    assert (revision.title, revision.body, revision.state) == ("First", "First body.", S.DRAFT)
    revision = workflows.article_submit(article=revision, actor=agent)
    live = workflows.article_publish(article=revision, actor=manager)
    assert (live.title, live.published_version) == ("First", 3)
    assert ArticleVersion.objects.filter(article=live).count() == 3


@pytest.mark.parametrize("version", [0, 9, "two", None, True])
def test_restoring_a_version_that_is_not_there_names_the_version(agent, manager, version):
    live = published_article(by=agent, publisher=manager)
    with pytest.raises(InvalidInput) as refused:
        workflows.article_restore(article=live, actor=agent, version=version)
    assert "version" in refused.value.fields
    assert not Article.objects.filter(revision_of=live).exists()
