"""The article state machine: draft → in_review → published → retired, with in_review → draft
(sent back by a knowledge manager), and revisions of published articles.

This module is the only place that changes an article's ``state``. Each transition is one
function: atomic, on a locked row, checked against the policy (``knowledge/rules.py``) and the
table below, journaled (``itsm.workflow.transition``; the journal keys any record).

Revising never takes a published article offline: ``article_revise`` (and ``article_restore``,
from an old version) makes a draft *revision* row (``revision_of`` = the live article) that is
edited, submitted and reviewed like any draft. Publishing it (``article_publish``) writes its
content onto the live article, keeps that publication as a new ``ArticleVersion`` and deletes
the revision row, in one transaction. An article has at most one revision in progress.

A knowledge manager publishes only what was submitted for review (a draft is submitted first,
also by a manager), so every publication passed through the review queue. Retiring a live
article leaves its revision in progress, which can then no longer be published (400).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from itsm import audit
from itsm.errors import InvalidInput, TransitionNotAllowed
from itsm.services import apply_changes, lock
from itsm.workflow import Transition, locked_for, transition
from knowledge.models import Article, ArticleState, ArticleVersion

S = ArticleState

TRANSITIONS: dict[str, Transition] = {
    "submit": Transition(frozenset({S.DRAFT}), S.IN_REVIEW),
    "send-back": Transition(frozenset({S.IN_REVIEW}), S.DRAFT),
    "publish": Transition(frozenset({S.IN_REVIEW}), S.PUBLISHED),
    "retire": Transition(frozenset({S.PUBLISHED}), S.RETIRED),
}
# Actions on a published article that start a revision (not state changes of the article).
REVISING = frozenset({S.PUBLISHED})


@transaction.atomic
def article_submit(*, article: Article, actor) -> Article:
    """An editor submits a draft (or a revision) for review; it needs a title and a body."""
    locked = lock(article)
    if locked.state == S.DRAFT:
        locked = locked_for(locked, actor, "submit")
        if not locked.body.strip():
            raise InvalidInput(
                "Write the article before submitting it for review.",
                fields={"body": ["An article needs a body before review."]},
            )
    return transition(
        TRANSITIONS, locked, actor, "submit", changes={"submitted_at": timezone.now(), "review_notes": ""}
    )


@transaction.atomic
def article_send_back(*, article: Article, actor, review_notes: str = "") -> Article:
    """A knowledge manager sends an article in review back to draft, saying what it needs."""
    notes = review_notes.strip() if isinstance(review_notes, str) else ""
    return transition(TRANSITIONS, article, actor, "send-back", changes={"review_notes": notes})


def _content(source) -> dict:
    return {name: getattr(source, name) for name in ArticleVersion.CONTENT}


def _keep_version(article: Article, actor, at) -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article, number=article.published_version, published_at=at, published_by=actor,
        **_content(article),
    )  # fmt: skip


@transaction.atomic
def article_publish(*, article: Article, actor) -> Article:
    """A knowledge manager publishes an article in review; the publication is kept as a new
    version. Publishing a revision updates the live article (which stays online throughout) and
    removes the revision; it returns the live article."""
    revision_of_id = Article.objects.filter(pk=article.pk).values_list("revision_of_id", flat=True).first()
    if revision_of_id is None:
        current = lock(article)
        now = timezone.now()
        article = transition(
            TRANSITIONS, current, actor, "publish",
            changes={"published_at": now, "published_by": actor, "retired_at": None, "review_notes": "",
                     "published_version": current.published_version + 1},
        )  # fmt: skip
        _keep_version(article, actor, now)
        return article
    # A revision: lock the live article first, then the revision (always in that order).
    live = lock(Article(pk=revision_of_id))
    revision = lock(article)
    if revision.state == S.IN_REVIEW:
        revision = locked_for(revision, actor, "publish")
        if live.state != S.PUBLISHED:
            raise InvalidInput(
                f"{live.number} is {live.get_state_display().lower()}: only a published article's "
                "revision can be published.",
                fields={"revision_of": [f"{live.number} is no longer published."]},
            )
    revision = transition(TRANSITIONS, revision, actor, "publish")
    now = timezone.now()
    apply_changes(
        live, actor,
        {**_content(revision), "published_at": now, "published_by": actor,
         "published_version": live.published_version + 1},
    )  # fmt: skip
    live.refresh_from_db()
    _keep_version(live, actor, now)
    audit.log_transition(
        live, actor, transition="publish", old_state=S.PUBLISHED, new_state=S.PUBLISHED,
        note=f"Revision published as version {live.published_version}.",
    )  # fmt: skip
    audit.log_delete(revision, actor)
    revision.delete()
    return live


@transaction.atomic
def article_retire(*, article: Article, actor) -> Article:
    """A knowledge manager retires a published article: out of search, suggestions and the
    portal; editors and managers still read it."""
    return transition(TRANSITIONS, article, actor, "retire", changes={"retired_at": timezone.now()})


def _start_revision(live: Article, actor, content: dict, note: str) -> Article:
    if live.revisions.exists():
        raise InvalidInput(
            f"{live.number} already has a revision in progress: finish or delete it first.",
            fields={"revision": ["A revision is already in progress."]},
        )
    try:
        with transaction.atomic():
            revision = Article.objects.create(
                number=live.number, revision_of=live, author=actor, owner=live.owner or actor, **content
            )
    except IntegrityError:  # another editor started one meanwhile
        raise InvalidInput(
            f"{live.number} already has a revision in progress.",
            fields={"revision": ["A revision is already in progress."]},
        ) from None
    audit.log_create(revision, actor)
    audit.log_transition(live, actor, transition="revise", old_state=live.state, new_state=live.state, note=note)
    return revision


def _revisable(article: Article, actor, action: str) -> Article:
    live = lock(article)
    if live.state not in REVISING:
        raise TransitionNotAllowed(action=action, state=live.state, allowed=[])
    return locked_for(live, actor, action)


@transaction.atomic
def article_revise(*, article: Article, actor) -> Article:
    """An editor starts a revision of a published article: a draft copy of its content, edited
    and reviewed while the published article stays online. Returns the revision."""
    live = _revisable(article, actor, "revise")
    return _start_revision(live, actor, _content(live), "Revision started.")


@transaction.atomic
def article_restore(*, article: Article, actor, version) -> Article:
    """An editor restores an old version of a published article as a revision (a draft with that
    version's content), reviewed and published like any revision. Returns the revision."""
    live = _revisable(article, actor, "restore")
    number = _version_number(version)
    kept = ArticleVersion.objects.filter(article=live, number=number).first()
    if kept is None:
        raise InvalidInput(
            "There is no such version.",
            fields={"version": [f"{live.number} has versions 1 to {live.published_version}."]},
        )
    return _start_revision(live, actor, _content(kept), f"Version {number} restored as a revision.")


def _version_number(value) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or str(number) != str(value).strip():
        raise InvalidInput("Give a version number.", fields={"version": ["Give a whole number from 1."]})
    return number
