"""Submitting admin pages as a browser would: POST data from the rendered form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.forms.widgets import ChoiceWidget


def form_data(form) -> dict[str, Any]:
    """What a browser would post for ``form`` untouched: each widget's rendered value."""
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        widget = bound.field.widget
        while isinstance(widget, RelatedFieldWidgetWrapper):
            widget = widget.widget
        value = bound.value()
        if isinstance(widget, forms.CheckboxInput):
            if widget.check_test(value):
                data[bound.html_name] = "on"
            continue
        context = widget.get_context(bound.html_name, value, {})["widget"]
        if isinstance(widget, forms.MultiWidget):
            for sub in context["subwidgets"]:
                data[sub["name"]] = sub["value"] or ""
        elif isinstance(widget, ChoiceWidget):
            chosen = [v for v in context["value"] if v != ""]
            data[bound.html_name] = chosen if widget.allow_multiple_selected else (chosen[:1] or [""])[0]
        else:
            data[bound.html_name] = "" if context["value"] is None else context["value"]
    return data


def page_data(response) -> dict[str, Any]:
    """The whole page's form: the record's fields and every inline's management form and rows."""
    data = form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(form_data(inline.formset.management_form))
        for row in inline.formset.forms:
            data.update(form_data(row))
    return data


def errors_on(response) -> list:
    """The form's and the inlines' errors as the page shows them."""
    errors = list(response.context["errors"] or [])
    for inline in response.context["inline_admin_formsets"]:
        errors += [e for e in inline.formset.errors if e] + list(inline.formset.non_form_errors())
    return errors
