"""Self-service portal pages for the knowledge base: search (highlighted snippets), an article's
page, and the reader's feedback (helpful or not, with an optional comment; one vote each, a second
updates it).

Only published articles the reader may read are ever shown (customers: for everyone; agents also
agents-only ones): anything else is 404, whatever other door the reader may use. The write goes
through ``knowledge.services.article_feedback``, which checks again.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from incidents.models import Incident
from itsm import policy
from itsm.pagination import paginate
from itsm.views.base import PortalMixin, record_or_404, submit
from knowledge import selectors
from knowledge.actions import ACTIONS
from knowledge.forms_portal import ReaderFeedbackForm
from knowledge.models import Article, ArticleFeedback, ArticleState

PAGE_SIZE = 10
QUERY_MAX = 200


def published_or_404(user, pk) -> Article:
    """A published article the user may read (never a draft, a revision or a retired one)."""
    queryset = Article.objects.filter(state=ArticleState.PUBLISHED, revision_of__isnull=True)
    return record_or_404(user, Article, pk, queryset=queryset)


def article_url(article: Article, anchor: str = "") -> str:
    url = reverse("portal:knowledge-article", args=[article.pk])
    return f"{url}#{anchor}" if anchor else url


class KnowledgeSearchView(PortalMixin, View):
    """``?q=words``: the best-ranked published articles the reader may read (the best 100), with
    highlighted snippets; without words, all of them, newest first. Ten to a page."""

    def get(self, request):
        user = request.user
        text = request.GET.get("q", "").replace("\x00", "").strip()[:QUERY_MAX]
        if selectors.words_of(text):
            # The best matches (at most ``selectors.MAX_RESULTS``), ranked once; each page reads
            # only its ten articles, with their snippets.
            ranked = selectors.search_ranked(user, text)
            page = Paginator(ranked.ranked, PAGE_SIZE).get_page(request.GET.get("page"))
            hits = ranked.hits(page.start_index() - 1, page.end_index()) if ranked.ranked else []
            found = {"count": len(ranked), "more": len(ranked) >= selectors.MAX_RESULTS}
        else:
            # No words: every published article the reader may read, newest first.
            page = paginate(request, selectors.published(user).order_by("-published_at", "-pk"), PAGE_SIZE)
            hits = [selectors.ArticleHit(article=a, rank=0.0, snippet="") for a in page.object_list]
            found = None
        context = {
            "view": {"door": "portal"},
            "q": text,
            "page": page,
            "hits": hits,
            "found": found,
            "may_raise": policy.can(user, "create", Incident),
        }
        return render(request, "knowledge/portal/search.html", context)


def article_page(request, article: Article, *, status: int = 200, feedback_form=None):
    user = request.user
    vote = None
    may_vote = policy.can(user, "feedback", article)
    if may_vote:
        vote = policy.readable(user, ArticleFeedback).filter(article=article, user=user).only("helpful").first()
    if feedback_form is None and may_vote:
        initial = {"helpful": "true" if vote.helpful else "false"} if vote is not None else None
        feedback_form = ReaderFeedbackForm(initial=initial, prefix="feedback", user=user, record=article)
    context = {
        "view": {"door": "portal"},
        "article": article,
        "vote": vote,
        "may_vote": may_vote,
        "feedback_form": feedback_form,
        "may_raise": policy.can(user, "create", Incident),
    }
    return render(request, "knowledge/portal/article.html", context, status=status)


class KnowledgeArticleView(PortalMixin, View):
    def get(self, request, pk):
        return article_page(request, published_or_404(request.user, pk))


class KnowledgeFeedbackView(PortalMixin, View):
    """Helpful or not, with an optional comment; back to the article with a thank-you."""

    http_method_names = ["post"]

    def post(self, request, pk):
        user = request.user
        article = published_or_404(user, pk)
        form = ReaderFeedbackForm(request.POST, prefix="feedback", user=user, record=article)

        def vote(data) -> str:
            again = ArticleFeedback.objects.filter(article=article, user=user).exists()
            ACTIONS.run("feedback", article, user, **data)
            if again:
                return "Thanks: your feedback on this article is updated."
            return "Thanks for your feedback: it helps us improve our articles."

        return submit(
            request, form, vote, door="portal", then=article_url(article, "feedback"),
            page=lambda status: article_page(request, article, status=status, feedback_form=form),
        )  # fmt: skip
