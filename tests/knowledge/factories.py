"""Articles for tests, made as the product makes them: through ``knowledge.services`` and
``knowledge.workflows``, so each has its KB number, its versions and its journal.

``by`` writes (a knowledge editor) and ``publisher`` reviews (a knowledge manager; ``by`` when
not given, so a manager can make a published article alone)."""

from __future__ import annotations

from knowledge import services, workflows
from knowledge.models import Article, ArticleState

BODY = "Restart the print spooler service, then send the job again.\n\n1. Open *Services*\n2. Restart it"


def make_article(
    *, by, title: str = "Printer does not print", body: str = BODY, state: str = ArticleState.DRAFT,
    publisher=None, **data,
) -> Article:  # fmt: skip
    """An article written by ``by`` and taken to ``state`` (draft, in_review, published, retired)."""
    article = services.article_create(actor=by, data={"title": title, "body": body, **data})
    if state == ArticleState.DRAFT:
        return article
    article = workflows.article_submit(article=article, actor=by)
    if state == ArticleState.IN_REVIEW:
        return article
    article = workflows.article_publish(article=article, actor=publisher or by)
    if state == ArticleState.PUBLISHED:
        return article
    return workflows.article_retire(article=article, actor=publisher or by)


def published_article(*, by, publisher=None, **data) -> Article:
    """A published article (for everyone unless ``audience`` says otherwise)."""
    return make_article(by=by, publisher=publisher, state=ArticleState.PUBLISHED, **data)


def revised_article(*, live: Article, by, publisher=None, state: str = ArticleState.PUBLISHED, **changes):
    """Revise the published ``live`` article with ``changes`` and take the revision to ``state``
    (published: returns the live article with the new content; else the revision)."""
    revision = workflows.article_revise(article=live, actor=by)
    if changes:
        revision = services.article_update(article=revision, actor=by, data=changes)
    if state == ArticleState.DRAFT:
        return revision
    revision = workflows.article_submit(article=revision, actor=by)
    if state == ArticleState.IN_REVIEW:
        return revision
    return workflows.article_publish(article=revision, actor=publisher or by)
