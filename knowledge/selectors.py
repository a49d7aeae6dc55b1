"""Reads over knowledge: search, suggestions, the review queue, versions and their diffs.

Search and suggestions only ever return *published* articles the reader may read
(``policy.readable``: a customer finds only published articles for everyone), never drafts,
articles in review, revisions or retired ones — whatever else the reader may read.

On PostgreSQL both are English full text (stemmed: "printers" finds "printer") over the two
documents each article stores (``Article.search_head``: title A, summary, keywords and category
B; ``Article.search_vector``: the same plus the body C), with ``ts_headline`` snippets of the
summary and body — the text escaped, the matches in ``<mark>``. They return the best
``MAX_RESULTS`` at most, in two tiers, each one query on a GIN index:

1. articles whose title, summary, keywords or category match, ranked by ``ts_rank`` of the small
   document (a title match above a summary match);
2. then, to fill up, articles that match only with their body: the ``WINDOW`` most recently
   written of them ranked by ``ts_rank`` of the whole document (exact whenever fewer match).

Ranking every match by the whole document would read every matching article's body: a word in
half the knowledge base made that half a second at 50,000 articles; ranked this way it is a few
milliseconds (``docs/PERFORMANCE.md``).

* ``search``: ``websearch_to_tsquery`` of what the reader typed (every word, "quoted phrases",
  ``-word``).
* ``suggest``: for free text such as an incident's short description, description and category,
  any of its significant words (stop words dropped, at most ``MAX_WORDS``), ranked by how many
  and which of them an article holds. Which articles are *candidates* is decided by its rarer
  words: words in more than ``COMMON`` of the articles ("slow", "error" in a big knowledge base)
  only rank, they do not select, unless nothing rarer was typed (the column's statistics say
  how common a word is: ``pg_stats``, read at most every ``STATS_TTL`` seconds).

On SQLite they are a plain fallback: search needs every word in the title, summary, keywords or
body (``icontains``), suggest any word, ranked by how many words hit, a title hit counting
double; the snippet is made here.
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass
from html import escape

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Cast

from itsm import policy
from knowledge.models import Article, ArticleState, ArticleVersion

SEARCH_FIELDS = ("title", "summary", "keywords", "body")
MAX_RESULTS = 50  # hits a search or suggestion returns at most
WINDOW = 200  # body-only matches ranked (the newest)
BODY_ONLY = 0.5  # a body-only match's rank is scaled below the title/summary matches' scale
COMMON = 0.03  # share of articles above which a suggestion word only ranks
STATS_TTL = 300.0
LEXEME = re.compile(r"[^\W_]+")
VECTORS = ("search_vector", "search_head")
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
    for word in re.findall(r"[^\W_]+", (text or "")[:TEXT_MAX].lower()):
        if len(word) < 2 or word in STOP_WORDS or word.isdigit() or word in seen:
            continue
        seen.append(word)
    return seen[:limit] if limit else seen


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def published(user) -> QuerySet:
    """Published articles ``user`` may read (never a revision), without the stored documents
    (nothing shows them; reading them back would cost more than the rest of the row)."""
    return (
        policy.readable(user, Article)
        .filter(state=ArticleState.PUBLISHED, revision_of__isnull=True)
        .defer(*VECTORS)
    )


def _headline(query) -> SearchHeadline:
    # CONCAT takes "any": the separator is cast, or PostgreSQL cannot type a bound parameter.
    text = Func(F("summary"), Cast(Value("\n"), TextField()), F("body"), function="CONCAT")
    clean = Func(text, Value(START + STOP), Value(""), function="translate")
    return SearchHeadline(
        clean, query, config="english", start_sel=START, stop_sel=STOP, max_words=SNIPPET_WORDS,
        min_words=12, max_fragments=2, fragment_delimiter=" … ",
    )  # fmt: skip


def _clean(text: str) -> str:
    return (text or "")[:TEXT_MAX].replace("\x00", "").strip()


@dataclass
class Ranked:
    """What a search found, best first, as (article id, rank) pairs; ``hits`` reads the rows."""

    ranked: list[tuple[int, float]]
    text: str
    query: SearchQuery | None = None  # PostgreSQL: what the snippets mark

    def __len__(self) -> int:
        return len(self.ranked)

    def hits(self, start: int = 0, stop: int | None = None) -> list[ArticleHit]:
        """The articles of ``ranked[start:stop]`` with their snippets: one query."""
        part = self.ranked[start:stop]
        if not part:
            return []
        rows = Article.objects.filter(pk__in=[pk for pk, _ in part]).defer(*VECTORS)
        if self.query is not None:
            rows = rows.annotate(headline=_headline(self.query))
        found = {article.pk: article for article in rows}
        hits = []
        for pk, rank in part:
            if pk in found:
                found[pk].rank = rank
                hits.append(ArticleHit(article=found[pk], rank=rank, snippet=snippet_of(found[pk], self.text)))
        return hits


def search_ranked(user, text: str, *, limit: int = MAX_RESULTS, queryset: QuerySet | None = None) -> Ranked:
    """Published articles ``user`` may read holding the words of ``text`` (``queryset``: narrowed
    further, e.g. by the API's filters), best first, at most ``limit`` (newest published first
    without words)."""
    base = published(user) if queryset is None else (queryset & published(user))
    text = _clean(text)
    limit = max(0, min(limit, MAX_RESULTS))
    if not words_of(text):
        return Ranked([(pk, 0.0) for pk in base.order_by("-published_at", "-pk").values_list("pk", flat=True)[:limit]], "")
    if _postgres():
        query = SearchQuery(text, search_type="websearch", config="english")
        found = _tiered(base, select=query, rank=query, limit=limit, read=_ids)
        return Ranked([(pk, round(float(rank), 4)) for pk, rank in found], text, query)
    words = words_of(text)
    qs = base
    for word in words:
        qs = qs.filter(_in(SEARCH_FIELDS, [word]))
    rows = qs.annotate(rank=_fallback_rank(words)).order_by("-rank", "-pk").values_list("pk", "rank")[:limit]
    return Ranked([(pk, round(float(rank), 4)) for pk, rank in rows], text)


def search_queryset(user, text: str = "") -> QuerySet:
    """``search_ranked`` as a queryset, for pages that paginate querysets: the found articles in
    their order, each with ``rank`` and, on PostgreSQL, ``headline`` (``snippet_of``; computed
    only for the rows read). Without words: every published article ``user`` may read, newest
    published first. The search itself runs once, here (one query, two at most)."""
    text = _clean(text)
    if not words_of(text):
        return published(user).annotate(rank=Value(0.0, output_field=FloatField())).order_by("-published_at", "-pk")
    found = search_ranked(user, text)
    if not found.ranked:
        return Article.objects.none()
    rank = Case(
        *(When(pk=pk, then=Value(value)) for pk, value in found.ranked),
        default=Value(0.0), output_field=FloatField(),
    )  # fmt: skip
    qs = Article.objects.filter(pk__in=[pk for pk, _ in found.ranked]).defer(*VECTORS).annotate(rank=rank)
    if found.query is not None:
        qs = qs.annotate(headline=_headline(found.query))
    return qs.order_by("-rank", "-pk")


def search(user, text: str, *, limit: int = 20, queryset: QuerySet | None = None) -> list[ArticleHit]:
    """The knowledge base as ``user`` may search it: published articles it may read holding the
    words of ``text``, best first, with a rank and an HTML snippet."""
    return search_ranked(user, text, limit=limit, queryset=queryset).hits()


def suggest(user, text: str, *, limit: int = 5) -> list[ArticleHit]:
    """The published articles ``user`` may read that best match free text (an incident's short
    description, description and category): any of its significant words, best first. The
    ranking queries read the articles themselves (one query, two on PostgreSQL when the titles
    do not fill the list)."""
    words = words_of(text, limit=MAX_WORDS)
    limit = max(0, min(limit, MAX_RESULTS))
    if not words or not limit:
        return []
    base = published(user)
    if _postgres():
        lexemes = _lexemes(words)
        if not lexemes:
            return []
        rank = _any([f"'{lexeme}'" for lexeme in lexemes])
        found = _tiered(base, select=_any(_selecting(lexemes)), rank=rank, limit=limit, read=_rows(rank))
        return _hits(found, " ".join(words))
    condition = Q()
    for word in words:
        condition |= _in(SEARCH_FIELDS, [word])
    rows = base.filter(condition).annotate(rank=_fallback_rank(words)).order_by("-rank", "-pk")
    return _hits(rows[:limit], text)


def suggestions_for_incident(user, incident, *, limit: int = 5) -> list[ArticleHit]:
    """Articles suggested for an incident: ``suggest`` over its short description, description
    and category."""
    text = " ".join(filter(None, [incident.short_description, incident.description, incident.category]))
    return suggest(user, text, limit=limit)


# --- PostgreSQL: the two tiers, and what selects suggestions -----------------------------------


def _tiered(base: QuerySet, *, select, rank, limit: int, read) -> list:
    """Articles of ``base`` matching ``select``: those matching it with their title, summary,
    keywords or category first, ranked by ``rank`` on that part; then, to fill up ``limit``, of
    those matching only with their body, the ``WINDOW`` newest ranked on the whole article
    (scaled by ``BODY_ONLY``). ``read(tier, count)`` reads the best ``count`` of a tier (a
    queryset annotated with ``rank``, in order): ``_ids`` or ``_rows``."""
    head = read(
        base.filter(search_head=select)
        .annotate(rank=SearchRank(F("search_head"), rank))
        .order_by("-rank", "-pk"),
        limit,
    )
    if len(head) < limit:
        window = base.filter(search_vector=select).exclude(search_head=select).order_by("-pk")[:WINDOW]
        head += read(
            Article.objects.filter(pk__in=window.values("pk"))
            .annotate(rank=SearchRank(F("search_vector"), rank) * Value(BODY_ONLY))
            .order_by("-rank", "-pk"),
            limit - len(head),
        )
    return head


def _ids(tier: QuerySet, count: int) -> list[tuple[int, float]]:
    """A tier's best ``count`` as (article id, rank) pairs, for a search that pages them."""
    return list(tier.values_list("pk", "rank")[:count])


def _rows(query: SearchQuery):
    """Reads a tier's best articles themselves (documents deferred) with the ``headline`` of
    their snippet marking ``query``, so suggestions need no query more. PostgreSQL computes the
    headline after the sort and the limit, for the rows returned only: it postpones an
    expensive output column the ORDER BY does not use past them (``docs/PERFORMANCE.md``)."""

    def read(tier: QuerySet, count: int) -> list[Article]:
        return list(tier.defer(*VECTORS).annotate(headline=_headline(query))[:count])

    return read


def _hits(rows, text: str) -> list[ArticleHit]:
    """Hits of articles read with their ``rank`` (rounded here to 4 places, as ``Ranked``'s) and,
    on PostgreSQL, their ``headline``."""
    hits = []
    for article in rows:
        article.rank = round(float(article.rank), 4)
        hits.append(ArticleHit(article=article, rank=article.rank, snippet=snippet_of(article, text)))
    return hits


_STEMS: dict[str, tuple[str, ...]] = {}  # a word's English lexemes: they never change
_STEMS_MAX = 20_000


def _lexemes(words: list[str]) -> list[str]:
    """The English lexemes of ``words`` (stemmed; PostgreSQL's own stop words dropped), in order.
    A word's lexemes are kept once asked (``_STEMS``, at most ``_STEMS_MAX`` words a process):
    most pages ask about words asked before, and then need no query."""
    known = {word: _STEMS[word] for word in words if word in _STEMS}
    missing = list(dict.fromkeys(word for word in words if word not in known))
    if missing:
        found: dict[str, list[str]] = {word: [] for word in missing}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT w.word, l.lexeme FROM unnest(%s::text[]) WITH ORDINALITY AS w(word, n),"
                " LATERAL unnest(to_tsvector('english', w.word)) AS l ORDER BY w.n",
                [missing],
            )
            for word, lexeme in cursor.fetchall():
                found[word].append(lexeme)
        if len(_STEMS) + len(found) > _STEMS_MAX:
            _STEMS.clear()
        _STEMS.update((word, tuple(lexemes)) for word, lexemes in found.items())
        known.update(found)
    every = (lexeme for word in words for lexeme in known[word])
    return list(dict.fromkeys(lexeme for lexeme in every if LEXEME.fullmatch(lexeme)))


_stats: dict = {"at": -STATS_TTL, "frequency": {}}


def _frequencies() -> dict[str, float]:
    """How common each frequent lexeme of the articles' titles and summaries is (the share of
    articles holding it), from PostgreSQL's column statistics; cached for ``STATS_TTL`` s."""
    now = time.monotonic()
    if now - _stats["at"] >= STATS_TTL:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
                " WHERE tablename = 'knowledge_article' AND attname = 'search_head'"
            )
            row = cursor.fetchone()
        elements, frequencies = row if row and row[0] else ([], [])
        _stats.update(at=now, frequency=dict(zip(elements, frequencies or [], strict=False)))
    return _stats["frequency"]


def _selecting(lexemes: list[str]) -> list[str]:
    """The lexemes that select suggestion candidates: the rarest ones while together they are
    in at most ``COMMON`` of the articles (always the rarest one); only common words typed: the
    two rarest together."""
    frequency = _frequencies()
    ordered = sorted(lexemes, key=lambda lexeme: frequency.get(lexeme, 0.0))
    chosen, share = [], 0.0
    for lexeme in ordered:
        share += frequency.get(lexeme, 0.0)
        if chosen and share > COMMON:
            break
        chosen.append(lexeme)
    if len(chosen) == 1 and frequency.get(chosen[0], 0.0) > COMMON and len(ordered) > 1:
        return [f"'{ordered[0]}' & '{ordered[1]}'"]
    return [f"'{lexeme}'" for lexeme in chosen]


def _any(terms: list[str]) -> SearchQuery:
    """A query for any of ``terms`` (lexemes, already stemmed and quoted, or ``'a' & 'b'``; the
    simple configuration, so nothing is stemmed twice)."""
    return SearchQuery(" | ".join(terms), search_type="raw", config="simple")


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
