"""The knowledge base's panels on other domains' pages (``itsm.views.panels``), registered from
``KnowledgeConfig.ready()``:

- ``desk:incident:side`` — on the desk incident page: the articles suggested for the incident,
  the ones linked to it (link / unlink), and "Promote to knowledge" for a resolved or closed
  incident (``knowledge.views.incident``).
- ``portal:incident-new`` — on the portal's "raise an incident" form: "Before you raise it",
  the articles matching what the customer types, fetched by ``static/knowledge/suggest.js`` from
  ``/api/v1/articles/suggest/?text=``. Without JavaScript it offers the knowledge search, and
  after a refused submit it lists the suggestions for what was typed, rendered here.
"""

from __future__ import annotations

from django.urls import reverse

from itsm import policy
from itsm.views import panels
from knowledge import selectors
from knowledge.models import Article
from knowledge.views.incident import LINKED, incident_panel

SUGGESTED = 5


def raise_form_panel(request, record) -> dict | None:
    """The raise form's panel: URLs only (no query) on a fresh form; the suggestions for what was
    typed when the form comes back with errors (one query)."""
    user = request.user
    if not policy.can(user, "read", Article):
        return None
    typed = ""
    if request.method == "POST":
        typed = " ".join(request.POST.get(name, "") for name in ("short_description", "description")).strip()
    return {
        "suggest_url": reverse("article-suggest"),
        "article_url": reverse("portal:knowledge-article", args=[0]),
        "search_url": reverse("portal:knowledge"),
        "suggestions": selectors.suggest(user, typed, limit=SUGGESTED) if typed else [],
        "typed": typed,
    }


def register() -> None:
    panels.register(panels.Panel(
        slot="desk:incident:side", name="knowledge", template="knowledge/desk/_incident_panel.html",
        context=incident_panel, probes=(LINKED,),
    ))  # fmt: skip
    panels.register(panels.Panel(
        slot="portal:incident-new", name="knowledge", template="knowledge/portal/_raise_panel.html",
        context=raise_form_panel,
    ))  # fmt: skip
