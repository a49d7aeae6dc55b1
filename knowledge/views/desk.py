"""Desk pages for knowledge articles: the list, the article page (rendered body, facts, actions
from ``knowledge.actions.ACTIONS``, feedback), the editor with its live preview, the review queue
for knowledge managers, and the published history with diffs and restore-as-draft.

Thin views, as the problem pages: the policy says what the user may read and do (an article it
may not read is 404, as is every page of a user who may read no article), a form shapes the
input, a workflow or service writes (and checks again), and a refusal comes back on the page with
its message and field errors (``itsm.views.base.submit``).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from itsm import policy
from itsm.forms import Unopened, opened
from itsm.pagination import paginate
from itsm.views.base import DeskMixin, record_or_404, submit
from knowledge import selectors, services
from knowledge.actions import ACTIONS
from knowledge.forms_desk import ArticleForm, ArticleListFilter, DiffForm, PreviewForm
from knowledge.markdown import render as render_markdown
from knowledge.models import Article, ArticleFeedback, ArticleState, ArticleVersion

PAGE_SIZE = 25
PAGE_RELATED = ("author", "owner", "published_by", "revision_of", "source_incident")
# Actions the article page does not list: feedback is the portal's (readers), restore is on the
# history page, next to each version.
PAGE_ACTIONS_LEFT_OUT = frozenset({"feedback", "restore"})
# Facts the article page lists, in order, of those the user may read.
FACTS = (
    "state", "audience", "category", "keywords", "owner", "author", "created_at", "updated_at",
    "submitted_at", "published_at", "published_by", "published_version", "retired_at",
)  # fmt: skip
FACT_LABELS = {
    "published_version": "Published version", "submitted_at": "Submitted", "created_at": "Created",
    "updated_at": "Updated", "published_at": "Published", "retired_at": "Retired",
}  # fmt: skip
# Facts left out while they have not happened yet.
LIFECYCLE = frozenset({"submitted_at", "published_at", "published_by", "published_version", "retired_at"})
COMMENTS_SHOWN = 20


# The distinct categories of all articles, one index probe each (a "skip scan" over the category
# index), instead of reading every article; which of them the reader may see is asked next.
CATEGORY_SKIP_SCAN = """
    WITH RECURSIVE c(category) AS (
        (SELECT category FROM knowledge_article WHERE category > '' ORDER BY category LIMIT 1)
        UNION ALL
        SELECT (SELECT a.category FROM knowledge_article a WHERE a.category > c.category
                ORDER BY a.category LIMIT 1)
        FROM c WHERE c.category IS NOT NULL
    )
    SELECT category FROM c WHERE category IS NOT NULL LIMIT %s
"""
CATEGORIES_SHOWN = 200


def categories(user) -> list[str]:
    """The categories of the articles ``user`` may read, in order (at most 200): two quick
    queries on PostgreSQL whatever the number of articles, a plain DISTINCT elsewhere."""
    readable = policy.readable(user, Article)
    if connection.vendor != "postgresql":
        names = readable.exclude(category="").order_by("category").values_list("category", flat=True)
        return list(names.distinct()[:CATEGORIES_SHOWN])
    with connection.cursor() as cursor:
        cursor.execute(CATEGORY_SKIP_SCAN, [CATEGORIES_SHOWN])
        candidates = [row[0] for row in cursor.fetchall()]
    if not candidates:
        return []
    probes = [readable.filter(category=name).values_list("category", flat=True)[:1] for name in candidates]
    found = set(probes[0].union(*probes[1:], all=True)) if len(probes) > 1 else set(probes[0])
    return [name for name in candidates if name in found]


def may_read_articles(user) -> bool:
    return policy.can(user, "read", Article)


def article_or_404(user, pk) -> Article:
    return record_or_404(user, Article, pk, queryset=Article.objects.select_related(*PAGE_RELATED))


def detail_url(article: Article, anchor: str = "") -> str:
    url = reverse("desk:article-detail", args=[article.pk])
    return f"{url}#{anchor}" if anchor else url


class KnowledgeDeskView(DeskMixin, View):
    """A desk knowledge page: only for desk users who may read articles (others get 404)."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and policy.has_permission(user, "desk.access") and not may_read_articles(user):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)


# --- The list -------------------------------------------------------------------------------


class ArticleListView(KnowledgeDeskView):
    """Every article the user may read (agents: published ones; editors and managers: all, the
    revisions in progress too), newest first, filtered and 25 to a page."""

    def get(self, request):
        user = request.user
        readable = policy.readable(user, Article)
        form = ArticleListFilter(request.GET or None, categories=categories(user))
        valid = form.is_valid() if form.is_bound else True
        hidden = policy.hidden_fields(user, Article)
        related = [name for name in ("owner",) if name not in hidden]
        # Newest first, on the primary key's index (at 50,000 articles a sort on another column
        # without an index of its own would read them all).
        queryset = form.filter(readable).select_related(*related).order_by("-pk")
        page = paginate(request, queryset, PAGE_SIZE)
        page.object_list = list(page.object_list)
        context = {
            "view": self,
            "page": page,
            "form": form,
            "filtered": form.is_filtered(),
            "hidden": hidden,
            "may_create": policy.can(user, "create", Article),
            "may_review": policy.has_permission(user, "knowledge.publish"),
        }
        return render(request, "knowledge/desk/list.html", context, status=200 if valid else 400)


# --- The article page -----------------------------------------------------------------------


def fact_rows(article: Article, readable) -> list[dict]:
    rows = []
    for name in FACTS:
        if name not in readable:
            continue
        field = Article._meta.get_field(name)
        value = getattr(article, name)
        kind = "datetime" if field.get_internal_type() == "DateTimeField" else "text"
        if name == "published_version" and not value:
            value = None
        if value is None and name in LIFECYCLE:
            continue  # not happened yet: nothing to say
        elif getattr(field, "choices", None):
            value = getattr(article, f"get_{name}_display")()
        elif field.is_relation and value is not None:
            value = value.get_full_name() or value.get_username()
        rows.append({"name": name, "label": FACT_LABELS.get(name) or field.verbose_name.capitalize(), "value": value, "kind": kind})
    return rows


def article_page(request, article: Article, *, status: int = 200, **bound):
    """The article page, with any bound action form (and its errors) passed in."""
    user = request.user
    readable = policy.readable_fields(user, article)
    actions = []
    for entry in ACTIONS.available(user, article):
        if entry.name in PAGE_ACTIONS_LEFT_OUT:
            continue
        form = bound.get(f"{entry.name}_form")
        if form is None:  # the card shows it closed unless asked to open it
            form = (
                entry.form(prefix=entry.name, user=user, record=article)
                if opened(request, entry.name)
                else Unopened(entry.form)
            )
        actions.append({"name": entry.name, "label": entry.label, "form": form, "danger": entry.danger})
    comments = []
    if "comment" not in policy.hidden_fields(user, ArticleFeedback):
        comments = list(
            policy.readable(user, ArticleFeedback)
            .filter(article=article)
            .exclude(comment="")
            .select_related("user")
            .order_by("-updated_at", "-pk")[:COMMENTS_SHOWN]
        )
    live = article.revision_of if article.revision_of_id and "revision_of" in readable else None
    revision = None
    if article.revision_of_id is None and article.state == ArticleState.PUBLISHED:
        revision = selectors.revision_in_progress(user, article)
    incidents = []
    if "incidents" in readable:
        incidents = list(article.incidents.only("pk", "number", "short_description", "state").order_by("-pk")[:20])
    context = {
        "view": {"door": "desk"},
        # Where a closed action card opens (``?open=``): the article's page, also when it is shown
        # again after a refused action was posted to the action's address.
        "page_url": reverse("desk:article-detail", args=[article.pk]),
        "article": article,
        "readable": readable,
        "facts": fact_rows(article, readable),
        "actions": actions,
        "may_edit": policy.can(user, "update", article),
        "may_delete": policy.can(user, "delete", article),
        "may_read_versions": policy.can(user, "read", ArticleVersion) and article.published_version > 0,
        "comments": comments,
        "live": live,
        "revision": revision,
        "changes": selectors.revision_diff(article) if live is not None else None,
        "incidents": incidents,
    }
    return render(request, "knowledge/desk/detail.html", context, status=status)


class ArticleDetailView(KnowledgeDeskView):
    def get(self, request, pk):
        return article_page(request, article_or_404(request.user, pk))


class ArticleActionView(KnowledgeDeskView):
    """One action of the article's table (submit, send back, publish, retire, revise, restore):
    the workflow checks the state and the policy. Revise and restore land on the new revision's
    editor; publishing a revision on the live article; ``back=review`` returns to the queue."""

    http_method_names = ["post"]

    def post(self, request, pk, action):
        if action not in ACTIONS or action == "feedback":
            raise Http404("No such action.")
        user = request.user
        article = article_or_404(user, pk)
        entry = ACTIONS[action]
        form = entry.form(request.POST, prefix=action, user=user, record=article)
        result = {}

        def run(data) -> str:
            result["article"] = ACTIONS.run(action, article, user, **data)
            return entry.message(result["article"])

        def then() -> str:
            done = result["article"]
            if action in ("revise", "restore"):
                return reverse("desk:article-edit", args=[done.pk])
            if request.POST.get("back") == "review" and policy.has_permission(user, "knowledge.publish"):
                return reverse("desk:article-review")
            return detail_url(done)

        if action == "restore":
            page = lambda status: history_page(request, article, status=status, restore_form=form)  # noqa: E731
        else:
            page = lambda status: article_page(request, article, status=status, **{f"{action}_form": form})  # noqa: E731
        return submit(request, form, run, then=then, page=page)


class ArticleDeleteView(KnowledgeDeskView):
    """A knowledge manager deletes an article (or a revision in progress)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        user = request.user
        article = article_or_404(user, pk)
        if not policy.can(user, "delete", article):
            raise Http404("No such page.")
        live = article.revision_of

        def delete(data) -> str:
            services.article_delete(article=article, actor=user)
            return f"{article} is deleted."

        return submit(
            request, forms.Form(request.POST), delete,
            then=detail_url(live) if live is not None else reverse("desk:article-list"),
            page=lambda status: article_page(request, article, status=status),
        )  # fmt: skip


# --- The editor -----------------------------------------------------------------------------


def editor_page(request, form, article=None, *, preview: str | None = None, status: int = 200):
    context = {
        "view": {"door": "desk"},
        "form": form,
        "categories": categories(request.user),
        "article": article,
        "preview": preview,
        "preview_url": reverse("desk:article-preview"),
    }
    return render(request, "knowledge/desk/edit.html", context, status=status)


def preview_of(form) -> str:
    """The body as it would be shown (``knowledge.markdown``), from the posted form."""
    return render_markdown(str(form.data.get("body", ""))[: PreviewForm.base_fields["body"].max_length])


class ArticleNewView(KnowledgeDeskView):
    """Write a new article (a draft); "Preview" shows the rendered body without saving."""

    def check(self, request):
        if not policy.can(request.user, "create", Article):
            raise Http404("No such page.")

    def get(self, request):
        self.check(request)
        return editor_page(request, ArticleForm())

    def post(self, request):
        self.check(request)
        form = ArticleForm(request.POST)
        if "preview" in request.POST:
            return editor_page(request, form, preview=preview_of(form))
        made = {}

        def create(data) -> str:
            article = made["article"] = services.article_create(actor=request.user, data=form.service_data())
            return f"{article.number} is saved as a draft."

        return submit(
            request, form, create, then=lambda: detail_url(made["article"]),
            page=lambda status: editor_page(request, form, status=status),
        )  # fmt: skip


class ArticleEditView(KnowledgeDeskView):
    """Edit an article while the policy lets the user (editors: drafts; managers: also in review);
    a change someone saved meanwhile is refused (409), not overwritten."""

    def load(self, request, pk):
        article = article_or_404(request.user, pk)
        writable = policy.writable_fields(request.user, article)
        if not policy.can(request.user, "update", article) or not writable:
            return article, None
        return article, writable

    def refuse(self, request, article):
        messages.info(request, f"{article} cannot be edited in its current state.")
        return redirect(detail_url(article))

    def get(self, request, pk):
        article, writable = self.load(request, pk)
        if writable is None:
            return self.refuse(request, article)
        return editor_page(request, ArticleForm(article=article, writable=writable), article)

    def post(self, request, pk):
        article, writable = self.load(request, pk)
        if writable is None:
            return self.refuse(request, article)
        form = ArticleForm(request.POST, article=article, writable=writable)
        if "preview" in request.POST:
            return editor_page(request, form, article, preview=preview_of(form))

        def save(data) -> str:
            changes = form.changes()
            if not changes:
                return "You did not change anything."
            services.article_update(
                article=article, actor=request.user, data=changes, expected_version=form.expected_version()
            )
            return f"Your changes to {article} are saved."

        return submit(
            request, form, save, then=detail_url(article),
            page=lambda status: editor_page(request, form, article, status=status),
        )  # fmt: skip


class ArticlePreviewView(KnowledgeDeskView):
    """The editor's live preview: the posted body rendered and sanitised exactly as the article
    page will show it, as an HTML fragment (for knowledge editors)."""

    http_method_names = ["post"]

    def post(self, request):
        if not policy.can(request.user, "create", Article):
            raise Http404("No such page.")
        form = PreviewForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("The body is too long to preview.", content_type="text/plain")
        return HttpResponse(render_markdown(form.cleaned_data["body"]), content_type="text/html; charset=utf-8")


# --- The review queue -----------------------------------------------------------------------


class ReviewQueueView(KnowledgeDeskView):
    """Articles and revisions waiting for review, oldest submission first, each with its publish
    and send-back forms (knowledge managers only)."""

    def get(self, request):
        user = request.user
        if not policy.has_permission(user, "knowledge.publish"):
            raise Http404("No such page.")
        page = paginate(request, selectors.review_queue(user), PAGE_SIZE)
        items = []
        for article in page.object_list:
            actions = [
                {"name": entry.name, "label": entry.label, "danger": entry.danger,
                 "form": entry.form(prefix=entry.name, user=user, record=article)}
                for entry in ACTIONS.available(user, article)
                if entry.name in ("publish", "send-back")
            ]  # fmt: skip
            items.append({"article": article, "actions": actions})
        context = {"view": {"door": "desk"}, "page": page, "items": items}
        return render(request, "knowledge/desk/review.html", context)


# --- History and diffs ----------------------------------------------------------------------


def history_page(request, article: Article, *, status: int = 200, restore_form=None):
    user = request.user
    if not policy.can(user, "read", ArticleVersion):
        raise Http404("No such page.")
    page = paginate(request, selectors.versions(user, article).order_by("-number"), PAGE_SIZE)
    may_restore = "restore" in {entry.name for entry in ACTIONS.available(user, article)}
    newest = article.published_version
    context = {
        "view": {"door": "desk"},
        "article": article,
        "page": page,
        "versions": list(page.object_list),
        "may_restore": may_restore,
        "restore_form": restore_form,
        "diff_form": DiffForm(initial={"from_": max(newest - 1, 1), "to": newest}, newest=newest),
    }
    return render(request, "knowledge/desk/history.html", context, status=status)


class ArticleHistoryView(KnowledgeDeskView):
    """The article's published versions, newest first: compare any two, restore one as a draft."""

    def get(self, request, pk):
        article = article_or_404(request.user, pk)
        if article.revision_of_id is not None:
            article = article_or_404(request.user, article.revision_of_id)
        return history_page(request, article)


class ArticleDiffView(KnowledgeDeskView):
    """``?from=n&to=m``: what changed between two published versions, line by line."""

    def get(self, request, pk):
        user = request.user
        article = article_or_404(user, pk)
        if not policy.can(user, "read", ArticleVersion):
            raise Http404("No such page.")
        form = DiffForm(request.GET)
        diff = None
        status = 200
        if form.is_valid():
            diff = selectors.version_diff(user, article, form.cleaned_data["from_"], form.cleaned_data["to"])
            if diff is None:
                form.add_error(None, f"{article.number} has versions 1 to {article.published_version}.")
                status = 400
        else:
            status = 400
        restorable = []
        if diff is not None and "restore" in {entry.name for entry in ACTIONS.available(user, article)}:
            chosen = (form.cleaned_data["from_"], form.cleaned_data["to"])
            restorable = sorted({n for n in chosen if n != article.published_version})
        context = {"view": {"door": "desk"}, "article": article, "form": form, "diff": diff, "restorable": restorable}
        return render(request, "knowledge/desk/diff.html", context, status=status)
