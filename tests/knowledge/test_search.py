"""Knowledge search and suggestions (``knowledge.selectors``): only published articles the reader
may read — never drafts, articles in review, revisions or retired ones; a customer never finds an
agents-only article. PostgreSQL adds stemming, weighted ranking (title above body) and
``ts_headline`` snippets; SQLite is a plain fallback."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge import selectors, workflows
from knowledge.models import ArticleState, Audience
from tests.incidents.factories import make_incident
from tests.knowledge.factories import make_article, published_article, revised_article

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full text (run with DATABASE_URL=postgres://…)"
)
S = ArticleState


def found(hits):
    return [hit.article.title for hit in hits]


@pytest.fixture
def library(agent, manager):
    """One article in each state about printers, and one agents-only."""
    return {
        "published": published_article(by=agent, publisher=manager, title="Printer offline"),
        "agents": published_article(
            by=agent, publisher=manager, title="Printer driver rollout", audience=Audience.AGENTS
        ),
        "draft": make_article(by=agent, title="Printer draft"),
        "in_review": make_article(by=agent, title="Printer in review", state=S.IN_REVIEW),
        "retired": make_article(by=agent, publisher=manager, title="Printer retired", state=S.RETIRED),
    }


def test_a_customer_finds_only_published_articles_for_everyone(library, customer):
    assert found(selectors.search(customer, "printer")) == ["Printer offline"]
    assert found(selectors.suggest(customer, "my printer is offline")) == ["Printer offline"]


def test_an_agent_finds_published_articles_for_everyone_and_agents(library, l1):
    assert sorted(found(selectors.search(l1, "printer"))) == ["Printer driver rollout", "Printer offline"]
    assert sorted(found(selectors.suggest(l1, "printer"))) == ["Printer driver rollout", "Printer offline"]


def test_editors_and_managers_find_no_draft_in_review_or_retired_article(library, agent, manager):
    for user in (agent, manager):
        assert sorted(found(selectors.search(user, "printer"))) == ["Printer driver rollout", "Printer offline"]
        assert sorted(found(selectors.suggest(user, "printer"))) == ["Printer driver rollout", "Printer offline"]


def test_a_revision_in_progress_is_not_found_but_its_live_article_is(agent, manager, customer):
    live = published_article(by=agent, publisher=manager, title="Printer offline")
    revised_article(live=live, by=agent, state=S.IN_REVIEW, title="Printer offline (new steps)", body="Toner")
    assert found(selectors.search(customer, "printer")) == ["Printer offline"]
    assert found(selectors.search(agent, "toner")) == []


def test_search_needs_every_word_and_suggest_any(agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Printer offline", body="Check the cable.")
    published_article(by=agent, publisher=manager, title="VPN drops", body="Check the cable.")
    assert found(selectors.search(customer, "printer cable")) == ["Printer offline"]
    assert sorted(found(selectors.suggest(customer, "printer cable"))) == ["Printer offline", "VPN drops"]


def test_suggest_ranks_the_article_holding_more_words_first_from_a_long_description(agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Outlook crashes", body="Start Outlook in safe mode.")
    published_article(
        by=agent, publisher=manager, title="Outlook crashes when opening attachments",
        body="Disable the attachment preview add-in, then open the attachment again.",
    )  # fmt: skip
    text = (
        "Hello, since this morning Outlook crashes every time I try opening attachments from our "
        "supplier. I already restarted the laptop twice. Thanks for your help!"
    )
    assert found(selectors.suggest(customer, text))[0] == "Outlook crashes when opening attachments"


def test_suggestions_for_an_incident_read_its_short_description_description_and_category(
    agent, manager, customer
):
    published_article(by=agent, publisher=manager, title="Printer offline", category="Hardware")
    incident = make_incident(requester=customer, short_description="Printer offline on floor 3")
    assert found(selectors.suggestions_for_incident(customer, incident)) == ["Printer offline"]


def test_stop_words_alone_suggest_nothing(library, customer):
    assert selectors.suggest(customer, "the and it is not working, please help") == []
    assert selectors.suggest(customer, "") == []


def test_snippets_are_escaped_and_mark_the_matches(agent, manager, customer):
    published_article(
        by=agent, publisher=manager, title="Script errors", body="A <script>alert(1)</script> printer tag."
    )
    [hit] = selectors.search(customer, "printer")
    assert "<script" not in hit.snippet
    assert re.sub(r"</?mark>", "", hit.snippet).count("<") == 0  # only the marks are HTML
    assert "<mark>printer</mark>" in hit.snippet.lower()


def test_without_words_search_lists_published_articles_newest_first(agent, manager, customer):
    older = published_article(by=agent, publisher=manager, title="Older")
    newer = published_article(by=agent, publisher=manager, title="Newer")
    workflows.article_retire(article=older, actor=manager)
    assert found(selectors.search(customer, "")) == [newer.title]


@postgres_only
def test_postgres_search_is_stemmed(agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Printer offline")
    assert found(selectors.search(customer, "printers")) == ["Printer offline"]
    assert found(selectors.suggest(customer, "two printers went offline")) == ["Printer offline"]


@postgres_only
def test_postgres_ranks_a_title_match_above_a_body_match(agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Cable checks", body="When the printer is offline…")
    published_article(by=agent, publisher=manager, title="Printer offline", body="Check the cable.")
    assert found(selectors.search(customer, "printer")) == ["Printer offline", "Cable checks"]


@postgres_only
def test_postgres_search_takes_phrases_and_exclusions(agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Printer offline", body="Paper jam in tray two.")
    published_article(by=agent, publisher=manager, title="Printer toner", body="Toner low warning.")
    assert found(selectors.search(customer, "printer -toner")) == ["Printer offline"]
    assert found(selectors.search(customer, '"paper jam"')) == ["Printer offline"]


@postgres_only
def test_postgres_search_sees_a_revision_once_published(agent, manager, customer):
    live = published_article(by=agent, publisher=manager, title="Printer offline", body="Old")
    revised_article(live=live, by=agent, publisher=manager, body="Replace the fuser unit.")
    assert found(selectors.search(customer, "fuser")) == ["Printer offline"]


def test_search_queryset_pages_the_same_articles_in_the_same_order(agent, manager, customer):
    for n in range(6):
        published_article(by=agent, publisher=manager, title=f"Printer {n}", body="Printer printer. " * (n + 1))
    published_article(by=agent, publisher=manager, title="Printer internal", audience=Audience.AGENTS)
    expected = [hit.article.pk for hit in selectors.search(customer, "printer")]
    queryset = selectors.search_queryset(customer, "printer")
    assert list(queryset.values_list("pk", flat=True)) == expected
    assert queryset.count() == 6
    assert [a.pk for a in queryset[2:4]] == expected[2:4]
    assert "<mark>" in selectors.snippet_of(queryset[0], "printer").lower()


def test_at_most_the_best_fifty_are_returned(agent, manager, customer):
    for n in range(selectors.MAX_RESULTS + 3):
        make_article(by=agent, title=f"Printer {n}", state=S.PUBLISHED, publisher=manager)
    assert len(selectors.search(customer, "printer", limit=500)) == selectors.MAX_RESULTS


@postgres_only
def test_postgres_suggestions_are_chosen_by_the_rarer_words_and_ranked_by_all(agent, manager, customer, monkeypatch):
    import time

    published_article(by=agent, publisher=manager, title="Laptop slow after update")
    published_article(by=agent, publisher=manager, title="VPN slow from home")
    assert sorted(found(selectors.suggest(customer, "my laptop is slow"))) == [
        "Laptop slow after update", "VPN slow from home",
    ]  # fmt: skip
    # Once "slow" is in most articles (the column's statistics say so), it only ranks.
    monkeypatch.setitem(selectors._stats, "at", time.monotonic())
    monkeypatch.setitem(selectors._stats, "frequency", {"slow": 0.6, "laptop": 0.01})
    assert found(selectors.suggest(customer, "my laptop is slow")) == ["Laptop slow after update"]
    # Only common words typed: the two rarest together select.
    monkeypatch.setitem(selectors._stats, "frequency", {"slow": 0.6, "laptop": 0.3})
    assert found(selectors.suggest(customer, "my laptop is slow")) == ["Laptop slow after update"]


@postgres_only
def test_postgres_a_body_only_match_comes_after_every_title_match(agent, manager, customer):
    body_only = published_article(by=agent, publisher=manager, title="Cable checks", body="printer " * 50)
    titled = published_article(by=agent, publisher=manager, title="Printer offline", body="Nothing else.")
    assert [hit.article.pk for hit in selectors.search(customer, "printer")] == [titled.pk, body_only.pk]
    assert [hit.article.pk for hit in selectors.suggest(customer, "printer jam")] == [titled.pk, body_only.pk]


@pytest.mark.parametrize("page", [3, 30])
def test_search_and_suggest_take_a_fixed_number_of_queries(agent, manager, customer, page,
                                                           django_assert_max_num_queries):  # fmt: skip
    for n in range(page):
        published_article(by=agent, publisher=manager, title=f"Printer {n}")
    customer.refresh_from_db()
    from itsm.roles import effective_roles

    effective_roles(customer)
    with django_assert_max_num_queries(3):
        assert len(selectors.search(customer, "printer", limit=page)) == page
    with django_assert_max_num_queries(4):
        assert len(selectors.suggest(customer, "my printer is broken", limit=5)) == min(page, 5)


@postgres_only
def test_a_words_lexemes_are_asked_of_postgresql_once(library, customer, monkeypatch):
    monkeypatch.setattr(selectors, "_STEMS", {})
    stemming = "to_tsvector('english', w.word)"
    with CaptureQueriesContext(connection) as asked:
        first = selectors.suggest(customer, "printer toner jammed")
    assert sum(stemming in q["sql"] for q in asked.captured_queries) == 1
    with CaptureQueriesContext(connection) as asked:
        again = selectors.suggest(customer, "printer toner jammed")
    assert found(again) == found(first)
    assert not any(stemming in q["sql"] for q in asked.captured_queries)
    assert selectors._lexemes(["printers", "jammed", "the"]) == ["printer", "jam"]  # stemmed; stop words dropped


@pytest.fixture
def corpus(agent, manager):
    """Articles that rank apart for "printer toner jammed": matches in the title, the summary,
    the keywords and the body only, one not matching, and ones a customer never gets."""
    return [
        published_article(by=agent, publisher=manager, title="Printer toner low", body="Replace the toner cartridge."),
        published_article(by=agent, publisher=manager, title="Printer jammed", summary="Paper jam in the tray."),
        published_article(by=agent, publisher=manager, title="Toner smudges", body="The printer needs a clean."),
        published_article(by=agent, publisher=manager, title="Paper feed", keywords="printer"),
        published_article(by=agent, publisher=manager, title="Scanner offline", body="The printer toner jammed too."),
        published_article(by=agent, publisher=manager, title="Cable checks", body="A printer on the desk."),
        published_article(by=agent, publisher=manager, title="VPN drops", body="Reconnect the VPN."),
        published_article(by=agent, publisher=manager, title="Printer toner internal", audience=Audience.AGENTS),
        make_article(by=agent, title="Printer toner draft"),
    ]


def ranked_then_read(user, text: str, limit: int) -> list:
    """What ``suggest`` found before it read the rows in its ranking queries: the ids and ranks
    first, then the rows and snippets in one more query (``Ranked.hits``, as search still does)."""
    words = selectors.words_of(text, limit=selectors.MAX_WORDS)
    base = selectors.published(user)
    if connection.vendor == "postgresql":
        lexemes = selectors._lexemes(words)
        rank = selectors._any([f"'{lexeme}'" for lexeme in lexemes])
        select = selectors._any(selectors._selecting(lexemes))
        ids = selectors._tiered(base, select=select, rank=rank, limit=limit, read=selectors._ids)
        return selectors.Ranked([(pk, round(float(r), 4)) for pk, r in ids], " ".join(words), rank).hits()
    condition = selectors._in(selectors.SEARCH_FIELDS, words[:1])
    for word in words[1:]:
        condition |= selectors._in(selectors.SEARCH_FIELDS, [word])
    rows = base.filter(condition).annotate(rank=selectors._fallback_rank(words)).order_by("-rank", "-pk")
    return selectors.Ranked([(pk, round(float(r), 4)) for pk, r in rows.values_list("pk", "rank")[:limit]], text).hits()


@pytest.mark.parametrize("limit", [2, 5, 50])
def test_suggestions_read_in_their_ranking_queries_are_the_ranked_articles_with_the_same_ranks_and_snippets(
    corpus, customer, limit
):
    text = "My printer toner jammed"
    hits = selectors.suggest(customer, text, limit=limit)
    if connection.vendor == "postgresql":
        # The title, summary, keywords and category matches by their rank (limit 5 also reads the
        # body tier), then the body-only ones.
        order = ["Printer jammed", "Printer toner low", "Toner smudges", "Paper feed", "Scanner offline", "Cable checks"]
    else:
        # How many words hit, a title hit counting double; ties newest first.
        order = ["Printer toner low", "Printer jammed", "Scanner offline", "Toner smudges", "Cable checks", "Paper feed"]
    assert found(hits) == order[:limit]
    expected = ranked_then_read(customer, text, limit)
    assert [(h.article.pk, h.rank, h.snippet) for h in hits] == [(h.article.pk, h.rank, h.snippet) for h in expected]
    assert [h.article.rank for h in hits] == [h.rank for h in hits]
    assert all(h.rank == round(h.rank, 4) for h in hits)
