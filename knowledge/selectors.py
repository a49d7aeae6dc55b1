"""Reads over knowledge: search, suggestions, the review queue, versions and their diffs.

Search and suggestions only ever return *published* articles the reader may read
(``policy.readable``: a customer finds only published articles for everyone), never drafts,
articles in review, revisions or retired ones — whatever else the reader may read.

On PostgreSQL both read the weighted document each article stores (``Article.search_vector``:
title A, summary, keywords and category B, body C; kept by ``Article.save``) through a GIN index
over published articles (migration 0001), in English (stemmed: "printers" finds "printer"):

* ``search``: ``websearch_to_tsquery`` of what the reader typed (every word, "quoted phrases",
  ``-word``), ranked by ``ts_rank`` (so a title match weighs above a body match), each hit with a
  ``ts_headline`` snippet of its summary and body — the text escaped, the matches in ``<mark>``.
* ``suggest``: for free text such as an incident's short description, description and category,
  an OR of its significant words (stop words dropped, at most ``MAX_WORDS``), ranked the same
  way, so a long description still finds articles holding some of its words.

On SQLite they are a plain fallback: search needs every word in the title, summary, keywords or
body (``icontains``), suggest any word, ranked by how many words hit, a title hit counting
double; the snippet is made here.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html import escape

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast

from itsm import policy
from knowledge.models import Article, ArticleState, ArticleVersion

SEARCH_FIELDS = ("title", "summary", "keywords", "body")
START, STOP = "\x02", "\x03"  # ts_headline's marks (taken out of the text first)
SNIPPET_WORDS = 30
MAX_WORDS = 10
TEXT_MAX = 2000  # characters of free text considered
STOP_WORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being but by can
    cannot could did do does doing done for from get gets got had has have having he her here his how
    i if in into is it its just me more most my no not now of off on once only or other our out over
    please same she should so some still such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who why will
    with would you your yours hi hello thanks thank regards help issue problem error working work
    works doesn't isn't can't won't""".split()  # noqa: SIM905
)


@dataclass
class ArticleHit:
    article: Article
    rank: float
    snippet: str


def words_of(text: str, *, limit: int | None = None) -> list[str]:
    """The distinct significant words of ``text``, lower-cased, in order: no stop words, no
    single letters, no numbers."""
    seen: list[str] = []
    for word in re.findall(r"[^\W_]+(?:'[^\W_]+)?", (text or "")[:TEXT_MAX].lower()):
        if len(word) < 2 or word in STOP_WORDS or word.isdigit() or word in seen:
            continue
        seen.append(word)
    return seen[:limit] if limit else seen


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def published(user) -> QuerySet:
    """Published articles ``user`` may read (never a revision)."""
    return policy.readable(user, Article).filter(state=ArticleState.PUBLISHED, revision_of__isnull=True)


def _headline(query) -> SearchHeadline:
    text = Func(F("summary"), Value("\n"), F("body"), function="CONCAT")
    clean = Func(text, Value(START + STOP), Value(""), function="translate")
    return SearchHeadline(
        clean, query, config="english", start_sel=START, stop_sel=STOP, max_words=SNIPPET_WORDS,
        min_words=12, max_fragments=2, fragment_delimiter=" … ",
    )  # fmt: skip


def search_queryset(user, text: str = "") -> QuerySet:
    """Published articles ``user`` may read matching ``text``, best first (newest published
    first without text), each with ``rank``; on PostgreSQL also ``headline`` (``snippet_of``)."""
    qs = published(user)
    text = (text or "")[:TEXT_MAX].replace("\x00", "")
    words = words_of(text)
    if not words:
        return qs.annotate(rank=Value(0.0, output_field=FloatField())).order_by("-published_at", "-pk")
    if _postgres():
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            qs.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query), headline=_headline(query))
            .order_by("-rank", "-pk")
        )
    for word in words:
        qs = qs.filter(_in(SEARCH_FIELDS, [word]))
    return qs.annotate(rank=_fallback_rank(words)).order_by("-rank", "-pk")


def search(user, text: str, *, limit: int = 20) -> list[ArticleHit]:
    """The knowledge base as ``user`` may search it: published articles it may read holding the
    words of ``text``, best first, with a rank and an HTML snippet."""
    rows = search_queryset(user, text)[:limit]
    return [ArticleHit(article=a, rank=round(float(a.rank), 4), snippet=snippet_of(a, text)) for a in rows]


def suggest(user, text: str, *, limit: int = 5) -> list[ArticleHit]:
    """The published articles ``user`` may read that best match free text (an incident's short
    description, description and category): any of its significant words, best first. One query."""
    words = words_of(text, limit=MAX_WORDS)
    if not words or limit < 1:
        return []
    qs = published(user)
    if _postgres():
        query = SearchQuery(words[0], config="english")
        for word in words[1:]:
            query = query | SearchQuery(word, config="english")
        rows = (
            qs.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query), headline=_headline(query))
            .order_by("-rank", "-pk")[:limit]
        )
    else:
        condition = Q()
        for word in words:
            condition |= _in(SEARCH_FIELDS, [word])
        rows = qs.filter(condition).annotate(rank=_fallback_rank(words)).order_by("-rank", "-pk")[:limit]
    return [ArticleHit(article=a, rank=round(float(a.rank), 4), snippet=snippet_of(a, text)) for a in rows]


def suggestions_for_incident(user, incident, *, limit: int = 5) -> list[ArticleHit]:
    """Articles suggested for an incident: ``suggest`` over its short description, description
    and category."""
    text = " ".join(filter(None, [incident.short_description, incident.description, incident.category]))
    return suggest(user, text, limit=limit)


def _in(names, words) -> Q:
    condition = Q()
    for name in names:
        for word in words:
            condition |= Q(**{f"{name}__icontains": word})
    return condition


def _fallback_rank(words):
    score = Value(0)
    for word in words:
        score = score + Case(When(_in(("title",), [word]), then=2), default=0, output_field=IntegerField())
        score = score + Case(When(_in(SEARCH_FIELDS[1:], [word]), then=1), default=0, output_field=IntegerField())
    return Cast(score, FloatField())


def snippet_of(article: Article, text: str = "") -> str:
    """The HTML snippet of a hit: PostgreSQL's headline, or a window of the summary and body
    around the first word found; escaped, the matches in ``<mark>``."""
    headline = getattr(article, "headline", None)
    if headline is not None:
        return _marked(headline)
    words = words_of(text)
    body = " ".join(filter(None, [article.summary, article.body]))
    if not body:
        return ""
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
    tokens = body.split()
    first = next((i for i, t in enumerate(tokens) if pattern and pattern.search(t)), 0)
    start = max(0, first - SNIPPET_WORDS // 3)
    window = " ".join(tokens[start : start + SNIPPET_WORDS])
    window = ("… " if start else "") + window + (" …" if start + SNIPPET_WORDS < len(tokens) else "")
    if pattern is None:
        return escape(window)
    out, at = [], 0
    for m in pattern.finditer(window):
        out.append(escape(window[at : m.start()]) + f"<mark>{escape(m.group())}</mark>")
        at = m.end()
    return "".join(out) + escape(window[at:])


def _marked(headline: str) -> str:
    out = []
    for i, part in enumerate(re.split(f"[{START}{STOP}]", headline)):
        out.append(f"<mark>{escape(part)}</mark>" if i % 2 and part else escape(part))
    return "".join(out)


# --- Lists for the desk -----------------------------------------------------------------------


def review_queue(user) -> QuerySet:
    """Articles (and revisions) waiting for review that ``user`` may read, oldest submission
    first."""
    return (
        policy.readable(user, Article)
        .filter(state=ArticleState.IN_REVIEW)
        .select_related("author", "revision_of")
        .order_by("submitted_at", "pk")
    )


def revision_in_progress(user, article: Article) -> Article | None:
    """The revision being written of a live article, if ``user`` may read it."""
    return policy.readable(user, Article).filter(revision_of=article).first()


def linked_articles(user, incident) -> QuerySet:
    """Articles linked to an incident that ``user`` may read (as the incident's answer, or the
    draft promoted from it)."""
    return policy.readable(user, Article).filter(incidents=incident).order_by("-pk")


# --- Versions and diffs -----------------------------------------------------------------------


def versions(user, article: Article) -> QuerySet:
    """The article's published versions (newest first) if ``user`` reads versions, else none."""
    return policy.readable(user, ArticleVersion).filter(article=article).select_related("published_by")


def _document(source) -> list[str]:
    """A version's (or an article's) content as the lines a diff compares."""
    head = [
        f"Title: {source.title}",
        f"Summary: {source.summary}",
        f"Category: {source.category}",
        f"Keywords: {source.keywords}",
        f"Audience: {source.get_audience_display()}",
        "",
    ]
    return head + (source.body or "").splitlines()


@dataclass
class DiffLine:
    kind: str  # "context", "added", "removed", "skip" (unchanged lines left out)
    old: int | None  # line number in the older document
    new: int | None  # line number in the newer document
    text: str


@dataclass
class Diff:
    old_label: str
    new_label: str
    lines: list[DiffLine]
    unified: str

    @property
    def changed(self) -> bool:
        return any(line.kind in ("added", "removed") for line in self.lines)


def diff(old, new, *, old_label: str, new_label: str, context: int = 3) -> Diff:
    """What changed from ``old`` to ``new`` (versions or articles): line by line (with line
    numbers, for a side-by-side or inline view) and as a unified diff."""
    a, b = _document(old), _document(new)
    lines: list[DiffLine] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("skip", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine("context", i + 1, j + 1, a[i]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
                continue
            if tag in ("replace", "delete"):
                lines += [DiffLine("removed", i + 1, None, a[i]) for i in range(i1, i2)]
            if tag in ("replace", "insert"):
                lines += [DiffLine("added", None, j + 1, b[j]) for j in range(j1, j2)]
    unified = "\n".join(
        difflib.unified_diff(a, b, fromfile=old_label, tofile=new_label, lineterm="", n=context)
    )
    return Diff(old_label=old_label, new_label=new_label, lines=lines, unified=unified)


def version_diff(user, article: Article, old: int, new: int) -> Diff | None:
    """The diff between two published versions of ``article`` (numbers), or None when either is
    not there for ``user``."""
    found = {v.number: v for v in versions(user, article).filter(number__in=[old, new])}
    if old not in found or new not in found:
        return None
    return diff(found[old], found[new], old_label=f"{article.number} v{old}", new_label=f"{article.number} v{new}")


def revision_diff(revision: Article) -> Diff:
    """What a revision changes on its live article (for its reviewer)."""
    live = revision.revision_of
    return diff(live, revision, old_label=f"{live.number} (published)", new_label=f"{live.number} (revision)")
