"""Knowledge on the desk's incident page (a panel in the slot ``desk:incident:side``, registered
in ``knowledge.panels``): the articles suggested for the incident, the ones linked to it, and the
forms behind the panel's buttons — link or unlink an article (agents who manage incidents) and
promote a resolved or closed incident's resolution to a new draft (knowledge editors).

The incident app never imports knowledge: the panel comes through ``itsm.views.panels`` and these
views live here, mounted under ``/desk/incidents/<pk>/knowledge/…`` by ``config/urls.py``.
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.urls import reverse
from django.views import View

from incidents.models import Incident
from incidents.views.desk.overview import OverviewView
from itsm import policy
from itsm.prefetch import Probe, holds
from itsm.views.base import DeskMixin, record_or_404, submit
from knowledge import selectors, services
from knowledge.forms_desk import LinkArticleForm
from knowledge.models import Article

SUGGESTED = 5
LINKED_SHOWN = 10
LINKED = Probe(Article.incidents.through, "incident")  # the articles linked to an incident


def incident_panel(request, incident) -> dict | None:
    """The panel's context: nothing for a user who may read no article. The suggestions cost one
    query (two on PostgreSQL when the titles do not fill the list; the articles and snippets come
    with them), the linked articles one unless the page found none linked (``LINKED``), the roles
    one once per request."""
    user = request.user
    if incident is None or not policy.can(user, "read", Article):
        return None
    linked = []
    if holds(incident, LINKED):  # no query when the page found no article linked to it
        linked = list(
            selectors.linked_articles(user, incident)
            .only("pk", "number", "title", "state", "revision_of", "source_incident")[:LINKED_SHOWN]
        )
    linked_ids = {article.pk for article in linked}
    suggestions = [
        hit for hit in selectors.suggestions_for_incident(user, incident, limit=SUGGESTED + len(linked_ids))
        if hit.article.pk not in linked_ids
    ][:SUGGESTED]
    return {
        "incident": incident,
        "suggestions": suggestions,
        "linked": linked,
        "may_link": policy.can(user, "link_incident", Article) and policy.can(user, "read", incident),
        "may_promote": incident.state in services.PROMOTABLE and policy.can(user, "create", Article),
        # The draft already promoted from it (the button would make a second one).
        "promoted": next((a for a in linked if a.source_incident_id == incident.pk), None),
        "search_url": reverse("desk:article-list"),
    }


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
