"""Desk pages for knowledge articles: the list (who sees what, filters, pages, pinned query
count), the article page and its actions, the editor with its preview, the review queue, the
history with diffs and restore-as-draft. Every rule is the policy's and the workflows'; these
tests pin that each page obeys them."""

import re
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse

from conftest import make_user
from itsm.roles import Role
from knowledge import services, workflows
from knowledge.models import Article, ArticleState, ArticleVersion, Audience
from knowledge.views import desk as desk_views
from tests.knowledge.factories import make_article, published_article, revised_article

pytestmark = pytest.mark.django_db
S = ArticleState
LIST = reverse("desk:article-list")
NEW = reverse("desk:article-new")
PREVIEW = reverse("desk:article-preview")
REVIEW = reverse("desk:article-review")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
# Session, user with its roles, the categories (two queries on PostgreSQL), the count and the page;
# never one query per row.
LIST_BOUND = 8


def url(name, article, *args):
    return reverse(f"desk:{name}", args=[article.pk, *args])


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def listed(response) -> list[str]:
    return [article.title for article in response.context["page"].object_list]


@pytest.fixture
def editor(agent):
    """A knowledge editor (the level-2 agent persona)."""
    return agent


@pytest.fixture
def library(editor, manager):
    return {
        "published": published_article(by=editor, publisher=manager, title="Printer offline", category="Printing"),
        "agents": published_article(
            by=editor, publisher=manager, title="VPN gateway runbook", audience=Audience.AGENTS, category="Network"
        ),
        "draft": make_article(by=editor, title="Mailbox full draft", category="Email"),
        "in_review": make_article(by=editor, title="Password reset steps", state=S.IN_REVIEW),
        "retired": make_article(by=editor, publisher=manager, title="Old fax guide", state=S.RETIRED),
    }


# --- Who may enter -----------------------------------------------------------------------------


def test_a_customer_is_refused_the_desk_knowledge_pages(client, customer, library):
    client.force_login(customer)
    for path in (LIST, NEW, REVIEW, url("article-detail", library["published"])):
        assert client.get(path).status_code == 403


def test_a_desk_user_who_may_read_no_article_gets_404(client, organisation):
    desk_only = make_user("deskonly", Role.PLATFORM_AGENT, organisation=organisation)
    client.force_login(desk_only)
    # platform_agent reads published articles: the list opens, but the editor does not.
    assert client.get(LIST).status_code == 200
    assert client.get(NEW).status_code == 404


# --- The list ----------------------------------------------------------------------------------


def test_an_agent_lists_published_articles_only_and_agents_only_ones_too(client, l1, library):
    client.force_login(l1)
    response = client.get(LIST)
    assert response.status_code == 200
    assert sorted(listed(response)) == ["Printer offline", "VPN gateway runbook"]
    assert "Write an article" not in html_of(response) and "Review queue" not in html_of(response)


def test_an_editor_lists_every_article_in_every_state(client, editor, library):
    client.force_login(editor)
    response = client.get(LIST)
    assert sorted(listed(response)) == sorted(a.title for a in library.values())
    assert "Write an article" in html_of(response)
    assert "Review queue" not in html_of(response)  # publishing is the managers'


def test_the_list_filters_by_state_category_audience_and_words(client, manager, library):
    client.force_login(manager)
    assert listed(client.get(LIST, {"state": "in_review"})) == ["Password reset steps"]
    assert listed(client.get(LIST, {"category": "Network"})) == ["VPN gateway runbook"]
    assert listed(client.get(LIST, {"audience": "agents"})) == ["VPN gateway runbook"]
    assert listed(client.get(LIST, {"q": "printer OFFLINE"})) == ["Printer offline"]
    number = library["draft"].number
    assert listed(client.get(LIST, {"q": number.lower()})) == ["Mailbox full draft"]
    response = client.get(LIST, {"state": "deleted"})
    assert response.status_code == 400
    assert "Some filters could not be used" in html_of(response)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full text")
def test_on_postgresql_the_list_finds_published_articles_by_stemmed_words_in_their_body(client, manager, library):
    client.force_login(manager)
    assert listed(client.get(LIST, {"q": "cartridges"})) == []
    published_article(by=manager, title="Toner", body="Replace the printer cartridge.")
    assert listed(client.get(LIST, {"q": "printers cartridges"})) == ["Toner"]
    assert listed(client.get(LIST, {"q": "mailbox"})) == ["Mailbox full draft"]  # a draft, by its title


def test_the_list_offers_only_categories_of_articles_the_reader_may_read(client, l1, library):
    client.force_login(l1)
    choices = dict(client.get(LIST).context["form"].fields["category"].choices)
    assert "Printing" in choices and "Network" in choices
    assert "Email" not in choices  # the draft's category


def _list_queries(client, django_assert_max_num_queries) -> int:
    client.get(LIST)
    with django_assert_max_num_queries(LIST_BOUND) as captured:
        response = client.get(LIST, {"state": "published"})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("size", [5, 30])
def test_list_query_count_does_not_grow_with_the_page(
    client, editor, manager, size, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(desk_views, "PAGE_SIZE", size)
    client.force_login(manager)
    published_article(by=editor, publisher=manager, title="First", category="C0")
    one = _list_queries(client, django_assert_max_num_queries)
    for i in range(size + 1):
        published_article(by=editor, publisher=manager, title=f"Article {i}", category=f"C{i % 4}")
    many = _list_queries(client, django_assert_max_num_queries)
    assert many == one
    page = client.get(LIST, {"state": "published"}).context["page"]
    assert len(page.object_list) == size and page.has_next()


# --- The article page --------------------------------------------------------------------------


def test_the_article_page_shows_the_sanitised_body_and_no_script(client, editor, manager):
    article = make_article(
        by=editor, body="# Steps\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) **now**"
    )
    client.force_login(editor)
    html = client.get(url("article-detail", article)).content.decode()
    assert "<h1>Steps</h1>" in html and "<strong>now</strong>" in html
    assert "<script>alert" not in html and "javascript:alert" not in html


def test_an_agent_gets_404_for_a_draft_in_review_or_retired_article(client, l1, library):
    client.force_login(l1)
    for name in ("draft", "in_review", "retired"):
        assert client.get(url("article-detail", library[name])).status_code == 404
    assert client.get(url("article-detail", library["agents"])).status_code == 200


def test_an_editor_is_offered_submit_on_a_draft_and_a_manager_publish_on_an_article_in_review(
    client, editor, manager, library
):
    client.force_login(editor)
    actions = [a["name"] for a in client.get(url("article-detail", library["draft"])).context["actions"]]
    assert actions == ["submit"]
    assert client.get(url("article-detail", library["in_review"])).context["actions"] == []
    client.force_login(manager)
    actions = [a["name"] for a in client.get(url("article-detail", library["in_review"])).context["actions"]]
    assert sorted(actions) == ["publish", "send-back"]


def test_submitting_from_the_article_page_sends_the_draft_to_review(client, editor, library):
    client.force_login(editor)
    draft = library["draft"]
    response = client.post(url("article-action", draft, "submit"), follow=True)
    assert f"{draft.number} is submitted for review." in said(response)
    draft.refresh_from_db()
    assert draft.state == S.IN_REVIEW


def test_an_editor_cannot_publish_by_posting_the_action(client, editor, library):
    client.force_login(editor)
    response = client.post(url("article-action", library["in_review"], "publish"))
    assert response.status_code == 403
    library["in_review"].refresh_from_db()
    assert library["in_review"].state == S.IN_REVIEW


def test_an_unknown_action_or_the_portal_feedback_is_not_an_action_of_the_desk(client, manager, library):
    client.force_login(manager)
    assert client.post(url("article-action", library["published"], "explode")).status_code == 404
    assert client.post(url("article-action", library["published"], "feedback")).status_code == 404


def test_sending_back_keeps_the_reviewers_notes_for_the_author(client, editor, manager, library):
    client.force_login(manager)
    article = library["in_review"]
    client.post(url("article-action", article, "send-back"), {"send-back-review_notes": "Add a screenshot."})
    article.refresh_from_db()
    assert article.state == S.DRAFT
    client.force_login(editor)
    assert "Add a screenshot." in html_of(client.get(url("article-detail", article)))


def test_revising_a_published_article_opens_the_revision_and_keeps_the_article_online(
    client, editor, library
):
    client.force_login(editor)
    live = library["published"]
    response = client.post(url("article-action", live, "revise"))
    revision = Article.objects.get(revision_of=live)
    assert response.status_code == 302 and response.url == url("article-edit", revision)
    live.refresh_from_db()
    assert live.state == S.PUBLISHED
    page = html_of(client.get(url("article-detail", live)))
    assert "A revision of this article is in progress" in page


def test_a_revision_page_shows_what_it_changes_on_the_live_article(client, editor, manager):
    live = published_article(by=editor, publisher=manager, body="Step one\nStep two")
    revision = revised_article(live=live, by=editor, state=S.DRAFT, body="Step one\nStep 2, rewritten")
    client.force_login(editor)
    response = client.get(url("article-detail", revision))
    assert response.context["changes"].changed
    html = html_of(response)
    assert "What this revision changes" in html and "Step 2, rewritten" in html


def test_feedback_comments_are_shown_to_editors_only(client, editor, l1, customer, manager):
    article = published_article(by=editor, publisher=manager)
    services.article_feedback(article=article, actor=customer, helpful=False, comment="Step 3 is missing.")
    client.force_login(editor)
    assert "Step 3 is missing." in html_of(client.get(url("article-detail", article)))
    client.force_login(l1)
    html = html_of(client.get(url("article-detail", article)))
    assert "Step 3 is missing." not in html
    assert "1</strong> did not" in html


def test_a_manager_deletes_an_article_and_an_editor_may_not(client, editor, manager, library):
    draft = library["draft"]
    client.force_login(editor)
    assert client.post(url("article-delete", draft)).status_code == 404
    client.force_login(manager)
    response = client.post(url("article-delete", draft))
    assert response.status_code == 302 and response.url == LIST
    assert not Article.objects.filter(pk=draft.pk).exists()


# --- The editor --------------------------------------------------------------------------------


def test_an_editor_writes_a_new_draft(client, editor):
    client.force_login(editor)
    assert client.get(NEW).status_code == 200
    data = {"title": "Reset your password", "body": "1. Go to *Account*", "audience": "everyone", "category": "Accounts"}
    response = client.post(NEW, data)
    article = Article.objects.get()
    assert response.status_code == 302 and response.url == url("article-detail", article)
    assert article.state == S.DRAFT and article.author == editor and article.owner == editor
    assert article.number.startswith("KB") and "<em>Account</em>" in article.body_html


def test_the_preview_button_renders_the_body_without_saving(client, editor):
    client.force_login(editor)
    response = client.post(NEW, {"title": "T", "body": "**bold** <img src=x onerror=alert(1)>", "preview": "1"})
    assert response.status_code == 200
    assert not Article.objects.exists()
    preview = response.context["preview"]
    assert "<strong>bold</strong>" in preview and "onerror" not in preview


def test_the_live_preview_returns_the_sanitised_fragment(client, editor):
    client.force_login(editor)
    response = client.post(PREVIEW, {"body": "## Hi\n\n<iframe src='https://evil'></iframe>[x](data:text/html,hi)"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "<h2>Hi</h2>" in html and "iframe" not in html and "data:" not in html


def test_the_live_preview_refuses_a_body_too_long_and_is_for_editors_only(client, editor, l1):
    client.force_login(editor)
    assert client.post(PREVIEW, {"body": "x" * 100_001}).status_code == 400
    client.force_login(l1)
    assert client.post(PREVIEW, {"body": "hi"}).status_code == 404


def test_a_new_article_without_a_title_is_a_400_naming_the_field(client, editor):
    client.force_login(editor)
    response = client.post(NEW, {"title": "", "body": "x", "audience": "everyone"})
    assert response.status_code == 400
    assert response.context["form"].errors["title"]
    assert not Article.objects.exists()


def test_an_editor_edits_a_draft_and_a_stale_save_is_refused(client, editor, library):
    draft = library["draft"]
    client.force_login(editor)
    form = client.get(url("article-edit", draft)).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "title": "Mailbox full: what to do"}
    services.article_update(article=draft, actor=editor, data={"summary": "Changed meanwhile"})
    response = client.post(url("article-edit", draft), data)
    assert response.status_code == 409
    draft.refresh_from_db()
    assert draft.title == "Mailbox full draft"
    data["version"] = draft.version
    response = client.post(url("article-edit", draft), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Mailbox full: what to do"


def test_an_editor_may_not_edit_an_article_in_review_but_a_manager_may(client, editor, manager, library):
    article = library["in_review"]
    client.force_login(editor)
    response = client.get(url("article-edit", article))
    assert response.status_code == 302 and response.url == url("article-detail", article)
    response = client.post(url("article-edit", article), {"title": "Hijacked", "version": article.version})
    article.refresh_from_db()
    assert article.title == "Password reset steps"
    client.force_login(manager)
    assert client.get(url("article-edit", article)).status_code == 200


def test_a_published_article_is_not_edited_in_place(client, manager, library):
    client.force_login(manager)
    live = library["published"]
    response = client.get(url("article-edit", live))
    assert response.status_code == 302
    assert "cannot be edited in its current state" in " ".join(said(client.get(response.url)))


# --- The review queue --------------------------------------------------------------------------


def test_the_review_queue_is_for_knowledge_managers(client, editor, manager, library):
    client.force_login(editor)
    assert client.get(REVIEW).status_code == 404
    client.force_login(manager)
    response = client.get(REVIEW)
    assert [item["article"].title for item in response.context["items"]] == ["Password reset steps"]
    assert [a["name"] for a in response.context["items"][0]["actions"]] == ["send-back", "publish"]


def test_publishing_from_the_review_queue_returns_to_the_queue(client, manager, library):
    client.force_login(manager)
    article = library["in_review"]
    response = client.post(url("article-action", article, "publish"), {"back": "review"})
    assert response.status_code == 302 and response.url == REVIEW
    article.refresh_from_db()
    assert article.state == S.PUBLISHED and article.published_version == 1
    assert client.get(REVIEW).context["items"] == []


def test_the_review_queue_query_count_is_fixed(client, editor, manager, django_assert_max_num_queries):
    client.force_login(manager)
    make_article(by=editor, title="One", state=S.IN_REVIEW)
    client.get(REVIEW)
    with django_assert_max_num_queries(8) as few:
        client.get(REVIEW)
    for i in range(8):
        make_article(by=editor, title=f"More {i}", state=S.IN_REVIEW)
    with django_assert_max_num_queries(8) as many:
        client.get(REVIEW)
    assert len(many) == len(few)


# --- History, diffs, restore -------------------------------------------------------------------


@pytest.fixture
def twice_published(editor, manager):
    live = published_article(by=editor, publisher=manager, title="Printer offline", body="Turn it off\nTurn it on")
    return revised_article(live=live, by=editor, publisher=manager, body="Turn it off\nWait ten seconds\nTurn it on")


def test_the_history_lists_every_publication_newest_first(client, editor, twice_published):
    client.force_login(editor)
    response = client.get(url("article-history", twice_published))
    assert [v.number for v in response.context["versions"]] == [2, 1]
    assert response.context["may_restore"]


def test_the_diff_shows_the_lines_that_changed_between_two_versions(client, editor, twice_published):
    client.force_login(editor)
    response = client.get(url("article-diff", twice_published), {"from": 1, "to": 2})
    assert response.status_code == 200
    added = [line.text for line in response.context["diff"].lines if line.kind == "added"]
    assert added == ["Wait ten seconds"]
    assert 'class="kb-add"' in html_of(response)


def test_a_diff_of_versions_that_do_not_exist_or_are_not_numbers_is_a_400(client, editor, twice_published):
    client.force_login(editor)
    for query in ({"from": 1, "to": 9}, {"from": "x", "to": 2}, {}, {"from": 1, "to": 10**20}, {"from": "\x00", "to": 1}):
        response = client.get(url("article-diff", twice_published), query)
        assert response.status_code == 400, query


def test_history_and_diff_are_404_for_readers_who_are_not_editors(client, l1, twice_published):
    client.force_login(l1)
    assert client.get(url("article-history", twice_published)).status_code == 404
    assert client.get(url("article-diff", twice_published), {"from": 1, "to": 2}).status_code == 404


def test_restoring_a_version_makes_a_draft_revision_with_its_content(client, editor, twice_published):
    client.force_login(editor)
    response = client.post(url("article-action", twice_published, "restore"), {"restore-version": "1"})
    revision = Article.objects.get(revision_of=twice_published)
    assert response.url == url("article-edit", revision)
    assert revision.state == S.DRAFT and revision.body == "Turn it off\nTurn it on"
    twice_published.refresh_from_db()
    assert twice_published.state == S.PUBLISHED and "Wait ten seconds" in twice_published.body
    assert ArticleVersion.objects.filter(article=twice_published).count() == 2


def test_restoring_a_version_that_does_not_exist_is_a_400_on_the_history_page(client, editor, twice_published):
    client.force_login(editor)
    response = client.post(url("article-action", twice_published, "restore"), {"restore-version": "7"})
    assert response.status_code == 400
    assert "There is no such version." in html_of(response)
    assert not Article.objects.filter(revision_of=twice_published).exists()


def test_workflows_stay_the_only_writer_of_state_through_the_desk(client, manager, library):
    # A crafted edit naming the state changes nothing but what the editor may write.
    client.force_login(manager)
    article = library["in_review"]
    client.post(url("article-edit", article), {"title": "Password reset", "state": "published", "version": article.version,
                                              "audience": "everyone"})  # fmt: skip
    article.refresh_from_db()
    assert article.state == S.IN_REVIEW and article.title == "Password reset"
    workflows.article_publish(article=article, actor=manager)


def test_the_diff_page_offers_to_restore_the_older_version_as_a_draft(client, editor, l1, twice_published):
    client.force_login(editor)
    response = client.get(url("article-diff", twice_published), {"from": 1, "to": 2})
    assert response.context["restorable"] == [1]  # version 2 is the live one
    assert "Restore version 1 as a draft" in html_of(response)


def test_publishing_a_revision_lands_on_the_live_article_with_the_new_content(client, editor, manager):
    live = published_article(by=editor, publisher=manager, body="Old steps")
    revision = revised_article(live=live, by=editor, state=S.IN_REVIEW, body="New steps")
    client.force_login(manager)
    response = client.post(url("article-action", revision, "publish"))
    assert response.status_code == 302 and response.url == url("article-detail", live)
    live.refresh_from_db()
    assert live.body == "New steps" and live.published_version == 2
    assert not Article.objects.filter(pk=revision.pk).exists()
    assert "New steps" in html_of(client.get(response.url))


def test_the_article_page_costs_the_same_queries_whatever_its_feedback_and_incidents(
    client, editor, manager, organisation, django_assert_max_num_queries
):
    from tests.incidents.factories import make_incident

    few, many = published_article(by=editor, publisher=manager), published_article(by=editor, publisher=manager)
    for n in range(6):
        reader = make_user(f"reader{n}", Role.PLATFORM_SELFSERVICE, organisation=organisation)
        services.article_feedback(article=many, actor=reader, helpful=n % 2 == 0, comment=f"Comment {n}")
        many.incidents.add(make_incident(requester=reader, short_description=f"Incident {n}"))
    client.force_login(manager)
    counts = []
    for article in (few, many):
        client.get(url("article-detail", article))
        with django_assert_max_num_queries(12) as captured:
            assert client.get(url("article-detail", article)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_the_history_is_paged_and_costs_the_same_queries_whatever_the_versions(
    client, editor, manager, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(desk_views, "PAGE_SIZE", 2)
    live = published_article(by=editor, publisher=manager, body="v1")
    client.force_login(editor)
    client.get(url("article-history", live))
    with django_assert_max_num_queries(10) as one:
        client.get(url("article-history", live))
    for n in range(2, 5):
        live = revised_article(live=live, by=editor, publisher=manager, body=f"v{n}")
    with django_assert_max_num_queries(10) as four:
        response = client.get(url("article-history", live))
    assert len(four) == len(one)
    assert [v.number for v in response.context["versions"]] == [4, 3]
    assert response.context["page"].has_next()


def test_hostile_list_and_editor_input_is_a_400_never_a_500(client, editor, twice_published):
    client.force_login(editor)
    assert client.get(LIST, {"q": "x" * 201}).status_code == 400
    assert client.get(LIST, {"q": "printer\x00"}).status_code == 400
    assert client.post(NEW, {"title": "x" * 201, "audience": "everyone"}).status_code == 400
    assert client.post(NEW, {"title": "T", "audience": "nobody"}).status_code == 400
    response = client.post(url("article-action", twice_published, "restore"), {"restore-version": "x"})
    assert response.status_code == 400
    assert client.post(url("article-action", twice_published, "restore"), {"restore-version": str(10**20)}).status_code == 400


def test_an_edit_without_the_version_it_was_made_on_is_a_400(client, editor, library):
    draft = library["draft"]
    client.force_login(editor)
    response = client.post(url("article-edit", draft), {"title": "No version", "audience": "everyone"})
    assert response.status_code == 400 and response.context["form"].errors["version"]
    assert "This page is out of date" in html_of(response)
    draft.refresh_from_db()
    assert draft.title == "Mailbox full draft"
