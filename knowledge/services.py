"""Writes to knowledge articles other than their transitions (``knowledge.workflows``): create,
edit, delete, feedback, promote an incident's resolution to a draft, link and unlink incidents.

Keyword-only, atomic, checked against the policy (``knowledge/rules.py``), journaled. A PATCH,
the desk editor and the admin change form all edit through ``article_update``, so an edit obeys
what the policy says of the article's state (editors edit drafts, managers also articles in
review; a published article changes only through a revision).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Count, Q

from incidents.models import Incident
from itsm import audit, policy
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.numbering import next_number
from itsm.services import lock, record_create, record_delete, record_update
from knowledge.models import NUMBER_PREFIX, Article, ArticleFeedback, ArticleState

TITLE_MAX = Article._meta.get_field("title").max_length
COMMENT_MAX = 2000
# The incident states an incident's resolution can be promoted from.
PROMOTABLE = frozenset({"resolved", "closed"})


def _check_owner(data: Mapping[str, Any]) -> None:
    owner = data.get("owner")
    if owner is not None and (not owner.is_active or not policy.has_permission(owner, "knowledge.edit")):
        raise InvalidInput(
            "The owner must be an active knowledge editor.",
            fields={"owner": [f"{owner} is not an active knowledge editor."]},
        )


@transaction.atomic
def article_create(*, actor, data: Mapping[str, Any], **system: Any) -> Article:
    """A knowledge editor writes a new draft (KB number, author and owner: the actor unless an
    owner is named). ``system`` is what a calling service sets (the incident it came from)."""
    if not policy.can(actor, "create", Article):
        raise NotAllowed("You may not write knowledge articles.")
    data = dict(data)
    return record_create(
        model=Article, actor=actor, data=data, check=lambda: _check_owner(data),
        number=next_number(NUMBER_PREFIX), author=actor,
        **({} if "owner" in data else {"owner": actor}), **system,
    )  # fmt: skip


@transaction.atomic
def article_update(
    *, article: Article, actor, data: Mapping[str, Any], expected_version: int | None = None
) -> Article:
    """Edit an article's content while the policy lets the actor edit it in its state; with
    ``expected_version`` a concurrent edit is refused (409)."""
    return record_update(
        obj=article, actor=actor, data=data, expected_version=expected_version,
        check=lambda current: _check_owner(data),
    )  # fmt: skip


@transaction.atomic
def article_delete(*, article: Article, actor) -> None:
    """A knowledge manager deletes an article (its versions and feedback with it)."""
    record_delete(obj=article, actor=actor)


def _clean_feedback(helpful, comment) -> tuple[bool, str]:
    errors: dict[str, list[str]] = {}
    if not isinstance(helpful, bool):
        errors["helpful"] = ["Say whether the article helped: true or false."]
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        errors["comment"] = ["The comment is text."]
    elif len(comment.strip()) > COMMENT_MAX:
        errors["comment"] = [f"At most {COMMENT_MAX} characters."]
    if errors:
        raise InvalidInput("The feedback cannot be saved as it is.", fields=errors)
    return helpful, comment.strip()


@transaction.atomic
def article_feedback(*, article: Article, actor, helpful, comment: str = "") -> ArticleFeedback:
    """A reader of a published article says whether it helped (and optionally why): one vote per
    reader, a second one replaces the first; the article's counts are recounted on the locked
    article, so they stay exact however many vote at once."""
    helpful, comment = _clean_feedback(helpful, comment)
    article = lock(article)
    if not policy.is_readable(actor, article):
        raise NotFound()
    if not policy.can(actor, "feedback", article):
        raise NotAllowed("Only published articles take feedback.")
    feedback = ArticleFeedback.objects.filter(article=article, user=actor).first()
    if feedback is None:
        feedback = ArticleFeedback.objects.create(article=article, user=actor, helpful=helpful, comment=comment)
        audit.log_create(feedback, actor)
    else:
        changes = [
            (name, getattr(feedback, name), value)
            for name, value in (("helpful", helpful), ("comment", comment))
            if getattr(feedback, name) != value
        ]
        if changes:
            feedback.helpful, feedback.comment = helpful, comment
            feedback.save(update_fields=["helpful", "comment", "updated_at"])
            audit.log_changes(feedback, actor, changes)
    counts = ArticleFeedback.objects.filter(article=article).aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )
    # Counters only: not an edit of the article (no new version, no "updated" time).
    Article.objects.filter(pk=article.pk).update(
        helpful_count=counts["yes"], not_helpful_count=counts["no"]
    )
    return feedback


def _incident_readable(actor, incident):
    if incident is None or not policy.readable(actor, Incident).filter(pk=incident.pk).exists():
        raise NotFound()


@transaction.atomic
def article_from_incident(*, incident, actor) -> Article:
    """Promote a resolved or closed incident's resolution to a new draft article: its short
    description as the title, its description and resolution notes as the body, its category;
    linked to the incident it came from. Journaled on both."""
    incident = lock(incident)
    _incident_readable(actor, incident)
    if not policy.can(actor, "create", Article):
        raise NotAllowed("You may not write knowledge articles.")
    if incident.state not in PROMOTABLE:
        raise InvalidInput(
            f"Only a resolved or closed incident's resolution can become an article; {incident.number} "
            f"is {incident.state.replace('_', ' ')}.",
            fields={"state": [f"The incident is {incident.state}: resolve it first."]},
        )
    sections = []
    if incident.description.strip():
        sections.append(f"## Problem\n\n{incident.description.strip()}")
    if incident.resolution_notes.strip():
        sections.append(f"## Resolution\n\n{incident.resolution_notes.strip()}")
    article = article_create(
        actor=actor,
        data={
            "title": incident.short_description.strip()[:TITLE_MAX] or f"Resolution of {incident.number}",
            "body": "\n\n".join(sections),
            "category": incident.category,
        },
        source_incident=incident,
    )
    article.incidents.add(incident)
    audit.log_changes(article, actor, [("source_incident", None, incident)])
    audit.log_changes(incident, actor, [("knowledge_articles", "", f"{article.number} (draft, promoted)")])
    return article


def _link_allowed(actor, article: Article, incident) -> Article:
    article = lock(article)
    if not policy.is_readable(actor, article):
        raise NotFound()
    _incident_readable(actor, incident)
    if not policy.can(actor, "link_incident", article):
        raise NotAllowed("Only agents who manage incidents link articles to them.")
    return article


@transaction.atomic
def article_link_incident(*, article: Article, incident, actor) -> Article:
    """An agent links a published article to an incident as its answer (journaled on the
    incident); linking it again changes nothing."""
    article = _link_allowed(actor, article, incident)
    if article.state != ArticleState.PUBLISHED or article.revision_of_id is not None:
        raise InvalidInput(
            "Only a published article can be linked to an incident.",
            fields={"article": [f"{article.number} is {article.get_state_display().lower()}."]},
        )
    if not article.incidents.filter(pk=incident.pk).exists():
        article.incidents.add(incident)
        audit.log_changes(incident, actor, [("knowledge_articles", "", article.number)])
    return article


@transaction.atomic
def article_unlink_incident(*, article: Article, incident, actor) -> Article:
    """An agent removes an article's link to an incident (journaled on the incident)."""
    article = _link_allowed(actor, article, incident)
    if article.incidents.filter(pk=incident.pk).exists():
        article.incidents.remove(incident)
        audit.log_changes(incident, actor, [("knowledge_articles", article.number, "")])
    return article
