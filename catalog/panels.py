"""The service catalog's panels on other domains' pages (``itsm.views.panels``), registered
from ``CatalogConfig.ready()``:

- ``portal:home`` — on the portal's home: the reader's requests counted by state (one query),
  each count a link to My Requests filtered by it, the approvals waiting for the reader, and
  the way to the catalog.
"""

from __future__ import annotations

from catalog import selectors
from catalog.models import CatalogItem, Request, RequestState
from itsm import policy
from itsm.views import panels


def home_summary(request, record) -> dict | None:
    user = request.user
    if not policy.can(user, "read", Request) and not policy.can(user, "read", CatalogItem):
        return None
    counts = selectors.summary(user)
    states = [
        {"state": value, "label": label, "count": counts["by_state"].get(value, 0)}
        for value, label in RequestState.choices
        if counts["by_state"].get(value, 0)
    ]
    return {
        "states": states,
        "total": counts["total"],
        "may_browse": policy.can(user, "read", CatalogItem),
    }


def register() -> None:
    panels.register(panels.Panel(
        slot="portal:home", name="catalog", template="catalog/portal/_home_panel.html", context=home_summary,
    ))  # fmt: skip
