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
from itsm.actions import ActionTable
from itsm.errors import ItsmError
from itsm.forms import NoInputForm, Unopened, opened
from itsm.prefetch import prefetch_filled
from itsm.views import panels
from itsm.views.assign import SelfAssign, with_membership
from itsm.views.base import DeskMixin, record_or_404, submit
from itsm.views.conversation import return_url


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
    # The ``itsm.views.panels`` slots this tab shows: what their panels read is asked for with
    # the record's lists (``itsm.prefetch.Probe``), so an empty panel costs no query.
    panel_slots: tuple[str, ...] = ()
    tab = "overview"
    template_name = ""
    # "Assign to me" in the page head (itsm.views.assign): the kind's action table and the URL
    # name of its AssignToMeView; offered only where the kind's assign service would accept it.
    assign_table: ActionTable | None = None
    assign_to_me = ""

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
        queryset = self.model.objects.select_related(*self.related)
        if self.assign_to_me:
            queryset = with_membership(queryset, self.request.user)
        record = record_or_404(self.request.user, self.model, pk, queryset=queryset)
        prefetch_filled(record, self.prefetch(hidden), self.probes())  # no query for an empty list
        return record

    def probes(self) -> list:
        """What the tab's panels read of the rows pointing at the record (``panel_slots``): asked
        with the record's lists, in the same statement."""
        return [probe for slot in self.panel_slots for probe in panels.probes(slot)]

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
            "assign_to_me_url": self.assign_to_me_url(record),
            # Where a closed form card opens (``?open=``): this tab's own page, also when the page
            # is shown again after a refused form was posted to its action's URL.
            "page_url": self.tab_url(self.tab, record),
            **self.page_context(record),
            **self.tab_context(record, forms),
        }
        return render(self.request, self.template_name, context, status=status)

    def assign_to_me_url(self, record) -> str:
        if not self.assign_to_me or not SelfAssign(self.request.user, self.model, self.assign_table).offered(record):
            return ""
        return reverse(self.assign_to_me, args=[record.pk])

    def write(self, record, form, form_name: str, call: Callable[[dict], str], *, anchor="", tab: str = ""):
        """Validate, call the workflow or service, and go back to the tab (or to the form's safe
        ``next``: the overview's composer) with what happened; or show the tab again with the
        refusal (400 bad input, 403, 409) and the form's errors."""
        return submit(
            self.request, form, call, then=return_url(self.request, self.tab_url(tab or self.tab, record, anchor)),
            page=lambda status: self.page(record, status=status, **{form_name: form}),
        )  # fmt: skip


def worded(exc: ItsmError, form) -> str:
    """A refusal as the page says it at the top: the service's message, then what it said about
    fields the form does not have (a change's missing gates, a request's requester…), which would
    otherwise be lost; the form's own fields carry their messages themselves."""
    extra = [text for name, texts in exc.fields.items() if name not in form.fields for text in texts]
    return " ".join([exc.message, *dict.fromkeys(str(text) for text in extra)])


class ActionTabView(RecordTabView):
    """A record page whose actions come from the kind's action table (``itsm.actions``): each
    action the user may take now, with its desk form, and one POST that runs it through the
    table's workflow function. Refusals are ``worded`` (the service's message and what it said
    about fields the form lacks)."""

    action_table: ActionTable | None = None

    def available(self, record) -> list:
        """The actions the user may take on the record now (none without an action table)."""
        if self.action_table is None:
            return []
        return self.action_table.available(self.request.user, record)

    def action_form(self, name: str, record, data=None):
        """The action's desk form (a plain button when the table names none)."""
        form = self.action_table[name].form or NoInputForm
        return form(data, prefix=name, user=self.request.user, record=record)

    def action_forms(self, record, forms: dict, names=None, *, exclude=(), lazy: bool = False) -> list[dict]:
        """Each available action (of ``names``, if given; not of ``exclude``) with its form: the
        one just posted if it came back with errors, else a fresh one — or, ``lazy`` (for the
        actions card, ``itsm/desk/_actions.html``), an ``Unopened`` one unless the page was asked
        to open it."""
        return [
            {
                "name": entry.name,
                "label": entry.label,
                "danger": entry.danger,
                "form": forms.get(f"{entry.name}_form") or self.fresh_form(entry.name, record, lazy=lazy),
            }
            for entry in self.available(record)
            if (names is None or entry.name in names) and entry.name not in exclude
        ]

    def fresh_form(self, name: str, record, *, lazy: bool = False):
        if lazy and not opened(self.request, name):
            return Unopened(self.action_table[name].form or NoInputForm)
        return self.action_form(name, record)

    def write(self, record, form, form_name: str, call: Callable[[dict], str], *, anchor="", tab: str = ""):
        """As ``RecordTabView.write``, with the refusal ``worded``."""
        return submit(
            self.request, form, call, then=return_url(self.request, self.tab_url(tab or self.tab, record, anchor)),
            page=lambda status: self.page(record, status=status, **{form_name: form}),
            refusal=lambda exc: worded(exc, form),
        )  # fmt: skip

    def action_anchor(self, action: str) -> str:
        """Where on the tab to land after ``action`` (a domain names its sections)."""
        return ""

    def act(self, pk, action: str):
        """Take ``action`` with the posted form, then back to this tab with what happened; the
        workflow refuses what the state or the policy does not allow."""
        table = self.action_table
        record = self.load(pk)
        user = self.request.user
        form = self.action_form(action, record, self.request.POST)
        return self.write(
            record, form, f"{action}_form",
            lambda data: table[action].message(table.run(action, record, user, **data)),
            anchor=self.action_anchor(action),
        )  # fmt: skip
