"""Portal pages for the knowledge base: search with highlighted snippets, an article's page and the
reader's feedback. A customer only ever sees published articles for everyone: a draft, an article
in review, a revision, a retired or an agents-only article is 404 and never found."""

import re
from html import unescape

import pytest
from django.urls import reverse

from knowledge.models import ArticleFeedback, ArticleState, Audience
from knowledge.views import portal as portal_views
from tests.knowledge.factories import make_article, published_article, revised_article

pytestmark = pytest.mark.django_db
S = ArticleState
SEARCH = reverse("portal:knowledge")
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')
# Session, user with its roles, the count, the page's keys and its articles.
SEARCH_BOUND = 6


def article_url(article):
    return reverse("portal:knowledge-article", args=[article.pk])


def feedback_url(article):
    return reverse("portal:knowledge-feedback", args=[article.pk])


def html_of(response) -> str:
    return CSRF_INPUT.sub("", unescape(response.content.decode()))


def found(response) -> list[str]:
    return [hit.article.title for hit in response.context["hits"]]


def said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def library(agent, manager):
    return {
        "published": published_article(
            by=agent, publisher=manager, title="Printer offline", summary="When the office printer shows offline.",
            body="Turn the printer off and on again, then check the network cable.",
        ),
        "agents": published_article(
            by=agent, publisher=manager, title="Printer driver rollout", audience=Audience.AGENTS,
            body="Push the printer driver package.",
        ),
        "draft": make_article(by=agent, title="Printer jam draft"),
        "in_review": make_article(by=agent, title="Printer toner in review", state=S.IN_REVIEW),
        "retired": make_article(by=agent, publisher=manager, title="Printer fax retired", state=S.RETIRED),
    }


@pytest.fixture
def portal(client, customer):
    client.force_login(customer)
    return client


# --- Search ------------------------------------------------------------------------------------


def test_a_customer_finds_only_published_articles_for_everyone(portal, library):
    response = portal.get(SEARCH, {"q": "printer"})
    assert response.status_code == 200
    assert found(response) == ["Printer offline"]
    html = html_of(response)
    for name in ("agents", "draft", "in_review", "retired"):
        assert library[name].title not in html


def test_an_agent_on_the_portal_also_finds_agents_only_articles(client, l1, library):
    client.force_login(l1)
    assert sorted(found(client.get(SEARCH, {"q": "printer"}))) == ["Printer driver rollout", "Printer offline"]


def test_search_results_show_highlighted_snippets(portal, library):
    html = portal.get(SEARCH, {"q": "network cable"}).content.decode()
    assert "<mark>" in html and "network" in html.lower()


def test_a_snippet_is_escaped_so_an_article_cannot_inject_markup_into_the_results(portal, agent, manager):
    published_article(by=agent, publisher=manager, title="Escapes", body="printer <b onmouseover=x>bold</b>")
    html = portal.get(SEARCH, {"q": "printer"}).content.decode()
    assert "<b onmouseover" not in html


def test_without_words_the_newest_articles_are_listed(portal, library):
    response = portal.get(SEARCH)
    assert found(response) == ["Printer offline"]
    assert "Newest articles" in html_of(response)


def test_no_match_says_so_and_offers_to_raise_an_incident(portal, library):
    html = html_of(portal.get(SEARCH, {"q": "quantum flux capacitor"}))
    assert "No article matches “quantum flux capacitor”" in html
    assert reverse("portal:incident-new") in html


def test_a_revision_in_progress_is_not_found_but_the_live_article_is(portal, agent, manager):
    live = published_article(by=agent, publisher=manager, title="Printer offline", body="Old steps")
    revision = revised_article(live=live, by=agent, state=S.IN_REVIEW, title="Printer offline v2", body="New steps")
    response = portal.get(SEARCH, {"q": "printer"})
    assert found(response) == ["Printer offline"]
    assert portal.get(article_url(revision)).status_code == 404


def _search_queries(client, django_assert_max_num_queries) -> int:
    client.get(SEARCH, {"q": "printer"})
    with django_assert_max_num_queries(SEARCH_BOUND) as captured:
        response = client.get(SEARCH, {"q": "printer"})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("size", [3, 12])
def test_search_query_count_does_not_grow_with_the_page(
    portal, agent, manager, size, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(portal_views, "PAGE_SIZE", size)
    published_article(by=agent, publisher=manager, title="Printer 0")
    one = _search_queries(portal, django_assert_max_num_queries)
    for i in range(size + 1):
        published_article(by=agent, publisher=manager, title=f"Printer {i + 1}")
    assert _search_queries(portal, django_assert_max_num_queries) == one
    page = portal.get(SEARCH, {"q": "printer"}).context["page"]
    assert len(page.object_list) == size and page.has_next()


# --- The article page --------------------------------------------------------------------------


def test_a_customer_reads_a_published_article_for_everyone(portal, library):
    response = portal.get(article_url(library["published"]))
    assert response.status_code == 200
    html = html_of(response)
    assert "Printer offline" in html and "Turn the printer off and on again" in html
    assert "Was this article helpful?" in html


def test_anything_else_is_404_for_a_customer(portal, library):
    for name in ("agents", "draft", "in_review", "retired"):
        assert portal.get(article_url(library[name])).status_code == 404, name
    assert portal.get(reverse("portal:knowledge-article", args=[10**30])).status_code == 404


def test_the_portal_shows_no_draft_even_to_an_editor(client, agent, library):
    client.force_login(agent)
    assert client.get(article_url(library["draft"])).status_code == 404
    assert client.get(article_url(library["published"])).status_code == 200


def test_the_portal_article_page_names_no_author_or_owner(portal, library):
    html = html_of(portal.get(article_url(library["published"])))
    assert "agent@example.com" not in html and "Owner" not in html and "Author" not in html


def test_the_portal_article_page_costs_a_fixed_few_queries(portal, library, django_assert_max_num_queries):
    path = article_url(library["published"])
    portal.get(path)
    with django_assert_max_num_queries(6):
        assert portal.get(path).status_code == 200


def test_the_portal_navigation_offers_the_knowledge_base(portal):
    assert f'href="{SEARCH}"' in portal.get(reverse("portal:home")).content.decode()


# --- Feedback ----------------------------------------------------------------------------------


def test_a_customer_marks_an_article_helpful_and_is_thanked(portal, customer, library):
    article = library["published"]
    response = portal.post(feedback_url(article), {"feedback-helpful": "true", "feedback-comment": ""}, follow=True)
    assert "Thanks for your feedback: it helps us improve our articles." in said(response)
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (1, 0)
    assert "You said this article helped" in html_of(response)


def test_a_second_vote_updates_the_first(portal, customer, library):
    article = library["published"]
    portal.post(feedback_url(article), {"feedback-helpful": "true"})
    response = portal.post(
        feedback_url(article), {"feedback-helpful": "false", "feedback-comment": "Did not work for me."}, follow=True
    )
    assert "Thanks: your feedback on this article is updated." in said(response)
    article.refresh_from_db()
    assert (article.helpful_count, article.not_helpful_count) == (0, 1)
    vote = ArticleFeedback.objects.get(article=article)
    assert vote.user == customer and vote.comment == "Did not work for me."


def test_feedback_without_an_answer_is_a_400_naming_the_field(portal, library):
    article = library["published"]
    response = portal.post(feedback_url(article), {"feedback-comment": "hm"})
    assert response.status_code == 400
    assert response.context["feedback_form"].errors["helpful"]
    assert not ArticleFeedback.objects.exists()


def test_feedback_on_an_article_the_customer_may_not_read_is_404(portal, library):
    for name in ("agents", "draft", "retired"):
        assert portal.post(feedback_url(library[name]), {"feedback-helpful": "true"}).status_code == 404
    assert not ArticleFeedback.objects.exists()


def test_the_comment_of_a_vote_is_not_shown_back_on_the_portal(portal, customer, library):
    article = library["published"]
    portal.post(feedback_url(article), {"feedback-helpful": "false", "feedback-comment": "Secret remark"})
    assert "Secret remark" not in html_of(portal.get(article_url(article)))


def test_snippets_drop_markdown_marks_but_keep_escaped_text_and_highlights():
    from knowledge.templatetags.knowledge_ui import snippet

    raw = "## Steps The <mark>printer</mark> shows **<mark>offline</mark>** &#x27;`code`&#x27; &lt;b&gt; snake_case"
    assert snippet(raw) == (
        "Steps The <mark>printer</mark> shows <mark>offline</mark> &#x27;code&#x27; &lt;b&gt; snake_case"
    )


def test_hostile_search_and_feedback_input_is_never_a_500(portal, library):
    for query in ({"q": "printer\x00"}, {"q": "x" * 10_000}, {"q": "printer", "page": "9999"},
                  {"q": "printer", "after": "junk"}, {"q": '"unclosed -- & | ! ('}):  # fmt: skip
        assert portal.get(SEARCH, query).status_code == 200, query
    article = library["published"]
    assert portal.post(feedback_url(article), {"feedback-helpful": "maybe"}).status_code == 400
    assert portal.post(feedback_url(article), {"feedback-helpful": "true", "feedback-comment": "x" * 2001}).status_code == 400
    assert not ArticleFeedback.objects.exists()
