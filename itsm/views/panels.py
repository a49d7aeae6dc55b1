"""Panels one domain shows on another domain's pages, without the page's app importing it.

A domain app sits beside the others in its layer and may not import one that imports it (no
cycles, ``tests/test_layers.py``): incidents cannot import changes or knowledge, yet the incident
page offers "Raise an emergency change" and suggests articles. So a page names a *slot*, and any
app registers a ``Panel`` for that slot from its ``AppConfig.ready()``:

    panels.register(Panel(
        slot="desk:incident:side",
        name="knowledge",
        template="knowledge/desk/_incident_panel.html",
        context=incident_suggestions,   # (request, record) -> dict, or None to show nothing
    ))

The page puts ``panels.render(request, slot, record)`` in its context and the template writes
``{% for panel in panels %}{% include panel.template with panel=panel.context %}{% endfor %}``.
The context function asks the policy itself (a panel about records the user may not read returns
None) and must cost a fixed few queries, since it runs on every view of the page. A panel that
lists rows pointing at the record declares them (``probes``); a record page that names its slots
(``RecordTabView.panel_slots``) asks whether any exist with its own lists, and the panel reads
none when ``itsm.prefetch.holds`` says there are none.

Slots in use:

- ``desk:incident:side`` — the incident page's overview, beside the actions (the record: the
  incident).
- ``desk:incident:main`` — the incident page's overview, under the details.
- ``portal:incident-new`` — the portal's "raise an incident" form, under the form (the record:
  None).
- ``portal:home`` — the portal's home, under the customer's incidents (the record: None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from itsm.prefetch import Probe


@dataclass(frozen=True)
class Panel:
    slot: str
    name: str
    template: str
    context: Callable[..., dict | None]
    order: int = 100
    # The rows pointing at the record that the panel reads (``itsm.prefetch.Probe``): a record
    # page asks for them with its own lists, in one statement, and the panel skips its query
    # when ``prefetch.holds(record, probe)`` says none exist.
    probes: tuple[Probe, ...] = ()


@dataclass(frozen=True)
class Shown:
    name: str
    template: str
    context: dict


_PANELS: dict[str, dict[str, Panel]] = {}


def register(panel: Panel) -> Panel:
    _PANELS.setdefault(panel.slot, {})[panel.name] = panel
    return panel


def unregister(slot: str, name: str) -> None:
    _PANELS.get(slot, {}).pop(name, None)


def panels(slot: str) -> list[Panel]:
    return sorted(_PANELS.get(slot, {}).values(), key=lambda panel: (panel.order, panel.name))


def probes(slot: str) -> list[Probe]:
    """What the panels of ``slot`` read that a record page can ask for with its own lists."""
    return [probe for panel in panels(slot) for probe in panel.probes]


def render(request, slot: str, record=None) -> list[Shown]:
    """The panels of ``slot`` that have something to show this user, in order."""
    shown = []
    for panel in panels(slot):
        context = panel.context(request, record)
        if context is not None:
            shown.append(Shown(panel.name, panel.template, context))
    return shown
