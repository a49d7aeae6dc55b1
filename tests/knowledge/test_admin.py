"""Knowledge admin: adds and edits go through the knowledge services (the same rules as the API:
a published article is not edited in place, a stale form is refused); publish and retire are
bulk actions through the workflows; versions and votes are read-only."""

from __future__ import annotations

import pytest

from itsm.models import AuditEntry
from knowledge import services
from knowledge.models import Article, ArticleFeedback, ArticleState
from tests.itsm.admin_support import page_data
from tests.knowledge.factories import make_article, published_article

pytestmark = pytest.mark.django_db

LIST = "/admin/knowledge/article/"
S = ArticleState


def submit(client, url, **values):
    data = page_data(client.get(url))
    data.update(values)
    return client.post(url, data)


def test_an_article_added_in_the_admin_is_a_numbered_draft_with_its_html(client, manager):
    client.force_login(manager)
    response = submit(client, f"{LIST}add/", title="Reset a password", body="Open **Settings**.")
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get(title="Reset a password")
    assert (article.state, article.number[:2], article.author) == (S.DRAFT, "KB", manager)
    assert article.body_html == "<p>Open <strong>Settings</strong>.</p>"
    assert AuditEntry.objects.filter(object_id=str(article.pk), action="create").exists()


def test_a_published_article_is_read_only_in_the_admin(client, manager, agent):
    article = published_article(by=agent, publisher=manager, title="Live")
    client.force_login(manager)
    submit(client, f"{LIST}{article.pk}/change/", title="Changed in place")
    assert Article.objects.get(pk=article.pk).title == "Live"


def test_a_stale_admin_form_is_refused(client, manager, agent):
    article = make_article(by=agent)
    client.force_login(manager)
    data = page_data(client.get(f"{LIST}{article.pk}/change/"))  # the form is loaded; meanwhile:
    services.article_update(article=article, actor=agent, data={"title": "Theirs"})
    data["title"] = "Mine"
    client.post(f"{LIST}{article.pk}/change/", data)
    assert Article.objects.get(pk=article.pk).title == "Theirs"


def test_publish_and_retire_are_bulk_actions(client, manager, agent):
    first = make_article(by=agent, state=S.IN_REVIEW, title="One")
    second = make_article(by=agent, state=S.IN_REVIEW, title="Two")
    draft = make_article(by=agent, title="Draft")
    client.force_login(manager)
    client.post(LIST, {"action": "publish", "_selected_action": [first.pk, second.pk, draft.pk]})
    states = dict(Article.objects.values_list("title", "state"))
    assert states == {"One": S.PUBLISHED, "Two": S.PUBLISHED, "Draft": S.DRAFT}
    client.post(LIST, {"action": "retire", "_selected_action": [first.pk]})
    assert Article.objects.get(pk=first.pk).state == S.RETIRED


def test_votes_and_versions_have_no_add_or_change_form(client, manager, agent, customer):
    article = published_article(by=agent, publisher=manager)
    vote = services.article_feedback(article=article, actor=customer, helpful=True, comment="Thanks")
    client.force_login(manager)
    assert client.get("/admin/knowledge/articlefeedback/add/").status_code == 403
    assert client.post(f"/admin/knowledge/articlefeedback/{vote.pk}/change/", {}).status_code == 403
    assert client.get("/admin/knowledge/articleversion/add/").status_code == 403
    assert ArticleFeedback.objects.count() == 1


def test_customers_do_not_enter_the_admin(client, customer):
    client.force_login(customer)
    assert client.get(LIST).status_code in (302, 403)
