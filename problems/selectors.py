"""Reads over problems: the known error database (search) and known errors proposed for an
incident (auto-match).

On PostgreSQL the search is English full text (stemmed: "printers" finds "printer"), ranked
with the title above symptoms and root cause above workaround, with a highlighted snippet; it
reads the weighted document each problem stores (``Problem.search_vector``, kept by its
``save``) through a GIN index over known errors (``migrations/0005_known_error_vector``).
On SQLite it is a plain fallback: every word must appear in one of the fields, ranked by how
many fields hold a word, with the snippet made here. Snippets are HTML: the text escaped, the
matches in ``<mark>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, FloatField, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, NullIf

from itsm import policy
from problems.models import Problem

SEARCH_FIELDS = ("short_description", "symptoms", "root_cause", "workaround")
# ts_headline marks matches with two control characters (taken out of the text first), so the
# rest can be escaped and only the marks become HTML.
START, STOP = "\x02", "\x03"
SNIPPET_WORDS = 30
MAX_WORDS = 8
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "cannot",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "then",
        "there",
        "this",
        "to",
        "was",
        "were",
        "when",
        "where",
        "which",
        "will",
        "with",
        "reported",
        "customer",
    ]
)


@dataclass
class KnownErrorHit:
    problem: Problem
    rank: float
    snippet: str


@dataclass
class KnownErrorMatch:
    problem: Problem
    score: float
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def words_of(text: str, *, limit: int | None = None) -> list[str]:
    """The distinct searchable words of ``text``, lower-cased, in order (no stop words, no
    words with digits such as numbers)."""
    seen: list[str] = []
    for word in re.findall(r"\w+", (text or "").lower()):
        if len(word) < 2 or word in STOP_WORDS or any(c.isdigit() for c in word) or word in seen:
            continue
        seen.append(word)
    return seen[:limit] if limit else seen


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def known_errors_queryset(user, text: str = "") -> QuerySet:
    """Known errors ``user`` may read matching ``text``, best first (newest first without text),
    each with ``rank``; on PostgreSQL also ``headline`` (see ``snippet_of``)."""
    qs = policy.readable(user, Problem).filter(is_known_error=True, kind=Problem.KIND)
    words = words_of(text)
    if not words:
        return qs.annotate(rank=Value(0.0, output_field=FloatField())).order_by("-pk")
    if _postgres():
        query = SearchQuery(" ".join(words), config="english")
        body = Func(
            Value(" · "), *(NullIf(name, Value("")) for name in SEARCH_FIELDS[1:]), function="CONCAT_WS"
        )
        clean = Func(body, Value(START + STOP), Value(""), function="translate")
        return (
            qs.filter(search_vector=query)
            .annotate(
                rank=SearchRank(F("search_vector"), query),
                headline=SearchHeadline(
                    clean,
                    query,
                    config="english",
                    start_sel=START,
                    stop_sel=STOP,
                    max_words=SNIPPET_WORDS,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
            .order_by("-rank", "-pk")
        )
    for word in words:
        qs = qs.filter(_anywhere(word))
    fields_hit = sum(
        (
            Case(When(_in(name, words), then=1), default=0, output_field=IntegerField())
            for name in SEARCH_FIELDS
        ),
        Value(0),
    )
    return qs.annotate(rank=Cast(fields_hit, FloatField())).order_by("-rank", "-pk")


def _anywhere(word: str) -> Q:
    return _in(SEARCH_FIELDS, [word])


def _in(names, words: list[str]) -> Q:
    names = (names,) if isinstance(names, str) else names
    condition = Q()
    for name in names:
        for word in words:
            condition |= Q(**{f"{name}__icontains": word})
    return condition


def snippet_of(problem: Problem, text: str = "") -> str:
    """The HTML snippet of a row of ``known_errors_queryset``: PostgreSQL's headline, or a
    window of the first field that holds a word; escaped, the matches in ``<mark>``."""
    headline = getattr(problem, "headline", None)
    if headline is not None:
        return _marked(headline)
    words = words_of(text)
    bodies = [getattr(problem, name) for name in SEARCH_FIELDS[1:] if getattr(problem, name)]
    if not bodies:
        return ""
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
    body = next((b for b in bodies if pattern and pattern.search(b)), bodies[0])
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


def known_errors(user, text: str = "", *, limit: int = 20) -> list[KnownErrorHit]:
    """The known error database: known errors ``user`` may read whose title, symptoms, root
    cause or workaround hold the words of ``text``, best first, with a rank and an HTML snippet."""
    rows = known_errors_queryset(user, text)[:limit]
    return [KnownErrorHit(problem=p, rank=round(float(p.rank), 4), snippet=snippet_of(p, text)) for p in rows]


# --- auto-match ------------------------------------------------------------------------------

# What each kind of evidence adds to a proposal's score (which tops out at 1.0).
HOST, HOST_GROUP, CATEGORY, WORDS = 0.4, 0.2, 0.15, 0.45


def match_for_incident(user, incident, *, limit: int = 5) -> list[KnownErrorMatch]:
    """Known errors ``user`` may read proposed for ``incident``, best first: a known error on one
    of its hosts, or on one of their host groups, of its category, or holding words of its short
    description and description, each with a score (0–1) and the reasons. Four queries at most,
    however many known errors there are."""
    words = words_of(f"{incident.short_description} {incident.description}", limit=MAX_WORDS)
    hosts = list(incident.hosts.values_list("pk", "hostname", "host_group_id", "host_group__name"))
    host_ids = [h[0] for h in hosts]
    group_ids = sorted({h[2] for h in hosts if h[2]})
    on_hosts = Problem.hosts.through.objects.filter(host_id__in=host_ids)
    on_groups = Problem.host_groups.through.objects.filter(hostgroup_id__in=group_ids)

    evidence, hits = Q(), {}
    for i, word in enumerate(words):
        if _postgres():  # read from each candidate's stored document, no subquery per word
            condition = Q(search_vector=SearchQuery(word, config="english"))
        else:
            condition = _anywhere(word)
        hits[f"word_{i}"] = Case(When(condition, then=1), default=0, output_field=IntegerField())
        evidence |= condition
    if host_ids:
        condition = Q(pk__in=on_hosts.values("problem_id"))
        hits["on_host"] = Case(When(condition, then=1), default=0, output_field=IntegerField())
        evidence |= condition
    if group_ids:
        condition = Q(pk__in=on_groups.values("problem_id"))
        hits["on_group"] = Case(When(condition, then=1), default=0, output_field=IntegerField())
        evidence |= condition
    if incident.category:
        condition = Q(category=incident.category)
        hits["same_category"] = Case(When(condition, then=1), default=0, output_field=IntegerField())
        evidence |= condition
    if not hits:
        return []
    weights = {"on_host": HOST, "on_group": HOST_GROUP, "same_category": CATEGORY}
    score = Value(0.0, output_field=FloatField())
    for name in hits:
        weight = weights.get(name) or WORDS / len(words)
        score = score + Cast(F(name), FloatField()) * Value(weight, output_field=FloatField())
    rows = list(
        policy.readable(user, Problem)
        .filter(is_known_error=True)
        .filter(evidence)
        .annotate(**hits)
        .annotate(score=score)
        .order_by("-score", "-pk")[:limit]
    )
    if not rows:
        return []
    ids = [p.pk for p in rows]
    names = {h[0]: h[1] for h in hosts}
    group_names = {h[2]: h[3] for h in hosts if h[2]}
    shared_hosts: dict[int, list[str]] = {}
    shared_groups: dict[int, list[str]] = {}
    if any(getattr(p, "on_host", 0) for p in rows):
        for problem_id, host_id in on_hosts.filter(problem_id__in=ids).values_list("problem_id", "host_id"):
            shared_hosts.setdefault(problem_id, []).append(names[host_id])
    if any(getattr(p, "on_group", 0) for p in rows):
        pairs = on_groups.filter(problem_id__in=ids).values_list("problem_id", "hostgroup_id")
        for problem_id, group_id in pairs:
            shared_groups.setdefault(problem_id, []).append(group_names[group_id])
    matches = []
    for problem in rows:
        reasons = []
        if problem.pk in shared_hosts:
            reasons.append(f"same host {', '.join(sorted(shared_hosts[problem.pk]))}")
        if problem.pk in shared_groups:
            reasons.append(f"same host group {', '.join(sorted(shared_groups[problem.pk]))}")
        if getattr(problem, "same_category", 0):
            reasons.append("same category")
        matched = [w for i, w in enumerate(words) if getattr(problem, f"word_{i}")]
        if matched:
            reasons.append(f"words: {', '.join(matched)}")
        matches.append(
            KnownErrorMatch(problem=problem, score=min(1.0, round(problem.score, 2)), reasons=reasons)
        )
    return matches
