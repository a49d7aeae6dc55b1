"""A desk record page with tabs, the same for every kind of Work: the record if the user may
read it (with the page's related rows), the tabs the user sees, one view per tab, and ``write``,
the one way a tab's form reaches a workflow or service (through ``itsm.views.base.submit``).

A domain subclasses ``RecordTabView`` once (its model, tabs, related rows, the context name of
its record and which tabs the policy hides) and then once per tab (template and context).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from itsm import policy
from itsm.views.base import DeskMixin, record_or_404, submit


@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    url_name: str


class RecordTabView(DeskMixin, View):
    """One tab of a record's desk page."""

    model = None
    context_name = "record"  # the record's name in the template context ("incident", "problem")
    tabs: tuple[Tab, ...] = ()
    related: tuple[str, ...] = ()  # select_related for every tab
    tab = "overview"
    template_name = ""

    # --- What a domain says ---------------------------------------------------------------

    def prefetch(self, hidden) -> tuple[str, ...]:
        return ()

    def tab_visible(self, record, name: str, hidden) -> bool:
        """Tabs about things the policy hides from the user are not there at all."""
        return True

    def page_context(self, record) -> dict:
        """What every tab shows besides its own content (badges in the page head)."""
        return {}

    def tab_context(self, record, forms: dict) -> dict:
        return {}

    # --- The page -------------------------------------------------------------------------

    def record_or_404(self, pk, hidden):
        queryset = self.model.objects.select_related(*self.related).prefetch_related(*self.prefetch(hidden))
        return record_or_404(self.request.user, self.model, pk, queryset=queryset)

    def load(self, pk):
        self.hidden = policy.hidden_fields(self.request.user, self.model)
        record = self.record_or_404(pk, self.hidden)
        if not self.tab_visible(record, self.tab, self.hidden):
            raise Http404("No such page.")
        return record

    def get(self, request, pk):
        return self.page(self.load(pk))

    def tab_url(self, name: str, record, anchor: str = "") -> str:
        url_name = next(tab.url_name for tab in self.tabs if tab.name == name)
        url = reverse(url_name, args=[record.pk])
        return f"{url}#{anchor}" if anchor else url

    def page(self, record, *, status: int = 200, **forms):
        tabs = [
            {"name": tab.name, "label": tab.label, "url": reverse(tab.url_name, args=[record.pk])}
            for tab in self.tabs
            if self.tab_visible(record, tab.name, self.hidden)
        ]
        context = {
            "view": self,
            self.context_name: record,
            "tabs": tabs,
            "tab": self.tab,
            "hidden": self.hidden,
            **self.page_context(record),
            **self.tab_context(record, forms),
        }
        return render(self.request, self.template_name, context, status=status)

    def write(self, record, form, form_name: str, call: Callable[[dict], str], *, anchor="", tab: str = ""):
        """Validate, call the workflow or service, and go back to the tab with what happened;
        or show the tab again with the refusal (400 bad input, 403, 409) and the form's errors."""
        return submit(
            self.request, form, call, then=self.tab_url(tab or self.tab, record, anchor),
            page=lambda status: self.page(record, status=status, **{form_name: form}),
        )  # fmt: skip
