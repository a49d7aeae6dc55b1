"""The form builder: an item's "Form fields" tab (add, order, configure and remove the fields of
its request form, no JSON anywhere) and its "Preview" tab (the form exactly as a customer sees
it), in the desk and in the portal's Manage Items tab.

Without JavaScript every button posts: "Add a field" comes back with one more empty row, "Move
up" / "Move down" / "Remove" with the rows rearranged (nothing is saved until "Save the form").
Saving hands the rows, as a definition, to the item service, which validates it
(``catalog.formdef.validate_definition``): its errors come back beside the row and field at
fault with status 400, and nothing is saved.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect

from catalog import formdef, services
from catalog.forms import FieldRowForm, FieldRowFormSet
from catalog.views.items import ManageView
from itsm.errors import ItsmError, NotFound

PREFIX = "fields"
# "form_fields[2].options", "form_fields[2].condition.field", "form_fields[2]", "form_fields"
FIELD_KEY = re.compile(r"^(?:form_fields)(?:\[(?P<index>\d+)\](?:\.(?P<part>[a-z_.]+))?)?$")
OP = re.compile(r"^(?P<op>up|down|remove):(?P<index>\d+)$")
ROW_NAMES = ("name", "label", "type", "required", "options", "default_value", "help_text",
             "condition_field", "condition_value")  # fmt: skip


def definition_errors(exc) -> dict[str, list[str]]:
    """The errors of a definition, whether the service raised an ``ItsmError`` or let
    ``validate_definition``'s ``ValidationError`` through."""
    if isinstance(exc, ItsmError):
        return {key: [str(text) for text in texts] for key, texts in exc.fields.items()}
    if hasattr(exc, "error_dict"):
        return {key: [str(text) for text in texts] for key, texts in exc.message_dict.items()}
    return {"form_fields": [str(text) for text in exc.messages]}


class FieldsView(ManageView):
    """The "Form fields" tab of an item."""

    def page(self, item, formset, *, status=200):
        context = {
            "item": item, "formset": formset, "tabs": self.item_tabs(item, "fields"),
            "type_choices": FieldRowForm.base_fields["type"].choices,
            "names": [form["name"].value() for form in formset.forms if form["name"].value()],
            # Rows shown again keep the version their editor loaded, so a save stays checked.
            "version_posted": posted if (posted := self.request.POST.get("version", "")).isdigit() else "",
        }  # fmt: skip
        return self.render_page("catalog/items/fields.html", context, status=status)

    def unbound(self, rows: list[dict], blanks: int = 1):
        """The builder showing ``rows`` and ``blanks`` empty rows to fill in."""
        initial = [*rows, *({} for _ in range(blanks))]
        for number, row in enumerate(initial, start=1):
            row["ORDER"] = number
        return FieldRowFormSet(prefix=PREFIX, initial=initial)

    def get(self, request, pk):
        item = self.item_or_404(pk)
        rows = [FieldRowForm.initial_for(field) for field in item.form_fields or []]
        return self.page(item, self.unbound(rows, blanks=0 if rows else 1))

    def post(self, request, pk):
        item = self.item_or_404(pk)
        formset = FieldRowFormSet(request.POST, prefix=PREFIX)
        op = request.POST.get("op", "save")
        if op != "save":
            return self.rearrange(item, formset, op)
        if not formset.is_valid():
            if self.door == "desk":
                messages.error(request, "Nothing was saved: please correct the fields below.")
            return self.page(item, formset, status=400)
        rows = formset.rows()
        try:
            version = request.POST.get("version", "")
            services.item_update(
                actor=request.user, item=item, form_fields=[row.definition() for row in rows],
                expected_version=int(version) if version.isdigit() else None,
            )  # fmt: skip
        except NotFound:
            raise Http404("No such catalog item.") from None
        except (ItsmError, ValidationError) as exc:
            status = exc.status if isinstance(exc, ItsmError) else 400
            self.place_errors(formset, rows, definition_errors(exc))
            if isinstance(exc, ItsmError) and not any(key.startswith("form_fields") for key in exc.fields):
                formset._non_form_errors = formset.error_class([exc.message], error_class="nonform")
            if self.door == "desk":
                messages.error(
                    request, "Nothing was saved: the form has problems, shown beside each field below."
                )
            return self.page(item, formset, status=status)
        count = len(rows)
        messages.success(
            request, f"The form of “{item.name}” is saved with {count} field{'s' if count != 1 else ''}."
        )
        return redirect(self.url("fields", item.pk))

    def place_errors(self, formset, rows: list[FieldRowForm], errors: dict[str, list[str]]) -> None:
        """Each definition error on the row and field it names; the rest above the rows."""
        general = []
        for key, texts in errors.items():
            match = FIELD_KEY.match(key)
            if not match or match["index"] is None or int(match["index"]) >= len(rows):
                general.extend(texts)
                continue
            form = rows[int(match["index"])]
            target = FieldRowForm.ERROR_FIELDS.get(match["part"] or "")
            form.add_error(target, texts)
        if general:
            formset._non_form_errors = formset.error_class(general, error_class="nonform")

    def rearrange(self, item, formset, op: str):
        """ "Add a field", "Move up/down" or "Remove" without JavaScript: the rows as posted (in
        the order asked, without those marked for removal), rearranged, shown again; nothing is
        saved. A button names its row by the row's number in the formset."""
        if not formset.is_valid():
            # Only a bad order number can make the rows invalid: keep them as posted.
            return self.page(item, formset, status=400)
        forms = [form for form in formset.ordered_forms if not form.is_blank()]
        blanks = sum(1 for form in formset.ordered_forms if form.is_blank())
        rows = [{name: form.cleaned_data.get(name) for name in ROW_NAMES} for form in forms]
        numbers = [int(form.prefix.rsplit("-", 1)[1]) for form in forms]
        match = OP.match(op)
        if op == "add":
            blanks += 1
        elif match and int(match["index"]) in numbers:
            at = numbers.index(int(match["index"]))
            if match["op"] == "remove":
                rows.pop(at)
            elif match["op"] == "up" and at > 0:
                rows[at - 1], rows[at] = rows[at], rows[at - 1]
            elif match["op"] == "down" and at + 1 < len(rows):
                rows[at + 1], rows[at] = rows[at], rows[at + 1]
        if not rows and not blanks:
            blanks = 1
        return self.page(item, self.unbound(rows, blanks))


class PreviewView(ManageView):
    """The "Preview" tab: the item's saved form rendered by ``formdef.build_form`` and the same
    include as the customer's request form; submitting is disabled."""

    def get(self, request, pk):
        item = self.item_or_404(pk)
        form = formdef.build_form(item.form_fields or [])
        context = {
            "item": item, "form": form, "tabs": self.item_tabs(item, "preview"),
        }  # fmt: skip
        return self.render_page("catalog/items/preview.html", context)
