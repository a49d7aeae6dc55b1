"""Knowledge on the desk's incident page (a panel in the slot ``desk:incident:side``, registered
in ``knowledge.panels``): the articles suggested for the incident, the ones linked to it, and the
forms behind the panel's buttons — link or unlink an article (agents who manage incidents) and
promote a resolved or closed incident's resolution to a new draft (knowledge editors).

The incident app never imports knowledge: the panel comes through ``itsm.views.panels`` and these
views live here, mounted under ``/desk/incidents/<pk>/knowledge/…`` by ``config/urls.py``.

The suggestions come after the page: ranking the published articles against the incident's
words and marking their snippets costs more than the rest of the page (about 7 ms in Python and
PostgreSQL, for a page of 15–20: docs/PERFORMANCE.md), and agents open an incident to read and
answer it. The panel shows the linked articles at once and fetches the suggestions from
``IncidentSuggestionsView`` when it comes into view (htmx); without JavaScript a link opens the
page with them (``?open=suggestions``), as the closed action cards open.
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views import View

from incidents.models import Incident
from incidents.views.desk.overview import OverviewView
from itsm import policy
from itsm.forms import opened
from itsm.prefetch import Probe, holds
from itsm.views.base import DeskMixin, record_or_404, submit
from knowledge import selectors, services
from knowledge.forms_desk import LinkArticleForm
from knowledge.models import Article

SUGGESTED = 5
LINKED_SHOWN = 10
LINKED = Probe(Article.incidents.through, "incident")  # the articles linked to an incident
LINKS = Article.incidents.field.related_query_name()  # the incident's side: "knowledge_articles"
SUGGESTIONS = "suggestions"  # ?open=suggestions: the page with them, for a browser without htmx


def incident_panel(request, incident, *, suggest: bool | None = None) -> dict | None:
    """The panel's context: nothing for a user who may read no article. The linked articles cost
    one query, none when the page found none linked (``LINKED``). The suggestions (``suggest``;
    by default when the page is asked to open them, ``?open=suggestions``) cost one query, two on
    PostgreSQL when the titles do not fill the list; otherwise ``suggestions`` is None and the
    panel fetches them from ``suggestions_url``."""
    user = request.user
    if incident is None or not policy.can(user, "read", Article):
        return None
    # Which articles answer the incident is the desk's working (``knowledge_articles``, hidden
    # from a reader of the incident as self-service): then none is listed, linked or left out.
    links_read = LINKS not in policy.hidden_fields(user, incident)
    linked = []
    if links_read and holds(incident, LINKED):  # no query when the page found none linked
        linked = list(
            selectors.linked_articles(user, incident)
            .only("pk", "number", "title", "state", "revision_of", "source_incident")[:LINKED_SHOWN]
        )
    if suggest is None:
        suggest = opened(request, SUGGESTIONS)
    return {
        "incident": incident,
        "suggestions": _suggestions(user, incident, {article.pk for article in linked}) if suggest else None,
        "suggestions_url": reverse("desk:incident-article-suggestions", args=[incident.pk]),
        "open_url": reverse("desk:incident-detail", args=[incident.pk]) + f"?open={SUGGESTIONS}#knowledge",
        "linked": linked,
        "may_link": links_read and policy.can(user, "link_incident", Article) and policy.can(user, "read", incident),
        "may_promote": incident.state in services.PROMOTABLE and policy.can(user, "create", Article),
        # The draft already promoted from it (the button would make a second one).
        "promoted": next((a for a in linked if a.source_incident_id == incident.pk), None),
        "search_url": reverse("desk:article-list"),
    }


def _suggestions(user, incident, linked_ids: set[int]) -> list:
    """The best ``SUGGESTED`` articles for the incident that are not linked to it already."""
    found = selectors.suggestions_for_incident(user, incident, limit=SUGGESTED + len(linked_ids))
    return [hit for hit in found if hit.article.pk not in linked_ids][:SUGGESTED]


class IncidentSuggestionsView(DeskMixin, View):
    """The panel's suggested articles alone, which the incident page fetches once it is shown
    (htmx) when the panel comes into view. An incident the user may not read, or a user who
    reads no article, is 404; asked without htmx, the incident page with the suggestions open."""

    http_method_names = ["get"]

    def get(self, request, pk):
        incident = record_or_404(request.user, Incident, pk)
        panel = incident_panel(request, incident, suggest=True)
        if panel is None:
            raise Http404("No such page.")
        if request.headers.get("HX-Request") == "true":
            response = render(request, "knowledge/desk/_incident_suggestions.html", {"panel": panel})
        else:
            response = redirect(panel["open_url"])
        patch_vary_headers(response, ["HX-Request"])
        return response


def incident_url(incident) -> str:
    return reverse("desk:incident-detail", args=[incident.pk]) + "#knowledge"


class IncidentArticleView(DeskMixin, View):
    """Link (``unlink = False``) or unlink an article and the incident, then back to its page.
    An article or incident the user may not read is 404; the service says who may link what."""

    http_method_names = ["post"]
    unlink = False

    def post(self, request, pk):
        user = request.user
        incident = record_or_404(user, Incident, pk)
        form = LinkArticleForm(request.POST)
        article = record_or_404(user, Article, form.cleaned_data["article"]) if form.is_valid() else None

        def act(data) -> str:
            if self.unlink:
                services.article_unlink_incident(article=article, incident=incident, actor=user)
                return f"{article.number} is no longer linked to {incident.number}."
            services.article_link_incident(article=article, incident=incident, actor=user)
            return f"{article.number} is linked to {incident.number} as its answer."

        return submit(
            request, form, act, then=incident_url(incident),
            page=lambda status: _back_with_error(request, incident, status),
        )  # fmt: skip


def _back_with_error(request, incident, status: int):
    """The incident page again, with the refusal ``submit`` put in the messages, and its status
    (400 bad input, 403, 409)."""
    view = OverviewView()
    view.setup(request, pk=incident.pk)
    return view.page(view.load(incident.pk), status=status)


class IncidentPromoteView(DeskMixin, View):
    """Promote a resolved or closed incident's resolution to a new draft article, linked to the
    incident, and open it in the editor."""

    http_method_names = ["post"]

    def post(self, request, pk):
        user = request.user
        incident = record_or_404(user, Incident, pk)
        if not policy.can(user, "create", Article):
            raise Http404("No such page.")
        made = {}

        def promote(data) -> str:
            article = made["article"] = services.article_from_incident(incident=incident, actor=user)
            return f"{article.number} is drafted from {incident.number}: check it, then submit it for review."

        return submit(
            request, forms.Form(request.POST), promote,
            then=lambda: reverse("desk:article-edit", args=[made["article"].pk]),
            page=lambda status: _back_with_error(request, incident, status),
        )  # fmt: skip
