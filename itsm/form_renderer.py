"""The project's form renderer: Django's ``TemplatesSetting`` (a template under an app's
``django/forms/…`` overrides Django's), with the plain widgets written in Python.

Django writes every widget through its templates: an ``<input>`` is three of them (the type's,
``input.html`` and ``attrs.html``), each with its own context, loader look-up and variable
resolution. A desk queue's filter bar (nine widgets) cost a sixth of the queue's Python calls
that way. ``WRITERS`` writes the same markup for the widgets whose templates are Django's own
(inputs, checkboxes, text areas; the select is ``itsm/templates/django/forms/widgets/select.html``
with its options already written by ``itsm_ui.select_options``); every other template (the
people pickers, radio lists, the admin's) is rendered as before. A new override of one of
``WRITERS``' templates must change its writer too (the writers do not read the templates).
``tests/itsm/test_form_renderer.py`` holds the writers to the templates' own output.
"""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting
from django.utils.html import conditional_escape

from itsm.templatetags.itsm_ui import select_options


def attrs(widget) -> str:
    """``django/forms/widgets/attrs.html``."""
    parts = []
    for name, value in widget["attrs"].items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{conditional_escape(value)}"')
    return "".join(parts)


def write_input(widget) -> str:
    """``django/forms/widgets/input.html`` (and each input type's template, which includes it)."""
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(value)}"'
    return f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"{shown}{attrs(widget)}>'


def write_textarea(widget) -> str:
    """``django/forms/widgets/textarea.html``."""
    value = widget["value"]
    return f'<textarea name="{conditional_escape(widget["name"])}"{attrs(widget)}>\n{conditional_escape(value) if value else ""}</textarea>'


def write_select(widget) -> str:
    """``itsm/templates/django/forms/widgets/select.html``."""
    return f'<select name="{conditional_escape(widget["name"])}"{attrs(widget)}>{select_options(widget["optgroups"])}</select>'


INPUTS = ("text", "number", "email", "url", "password", "hidden", "date", "time", "datetime", "checkbox", "search", "tel")
WRITERS = {
    **{f"django/forms/widgets/{name}.html": write_input for name in INPUTS},
    "django/forms/widgets/input.html": write_input,
    "django/forms/widgets/textarea.html": write_textarea,
    "django/forms/widgets/select.html": write_select,
}


class FormRenderer(TemplatesSetting):
    def render(self, template_name, context, request=None):
        write = WRITERS.get(template_name)
        if write is None:
            return super().render(template_name, context, request)
        return write(context["widget"])
