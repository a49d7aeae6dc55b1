"""The project's form renderer: Django's ``TemplatesSetting`` (a template under an app's
``django/forms/…`` overrides Django's), with the plain widgets written in Python.

Django writes every widget through its templates: an ``<input>`` is three of them (the type's,
``input.html`` and ``attrs.html``), each with its own context, loader look-up and variable
resolution. A desk queue's filter bar (nine widgets) cost a sixth of the queue's Python calls
that way. ``WRITERS`` writes the same markup for the widgets whose templates are Django's own
(inputs, checkboxes, text areas, radio and checkbox lists, file inputs; the select is
``itsm/templates/django/forms/widgets/select.html`` with its options already written by
``itsm_ui.select_options``); every other template (the people pickers, the admin's) is rendered
as before, and so is a writer's widget in a case it leaves to the template (it answers
None). A new override of one of
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


def write_option(widget) -> str:
    """``django/forms/widgets/input_option.html`` (a radio's or a checkbox's option, also written
    alone by a template looping over a field's options: ``{{ radio.tag }}``)."""
    field = write_input(widget) + "\n"
    if not widget.get("wrap_label"):
        return field
    target = widget["attrs"].get("id")
    for_attr = f' for="{conditional_escape(target)}"' if target else ""
    return f"<label{for_attr}>{field} {conditional_escape(widget['label'])}</label>"


def write_choices(widget) -> str:
    """``django/forms/widgets/radio.html`` and ``checkbox_select.html``: ``multiple_input.html``
    with each option's ``input_option.html``, their line breaks included (an include keeps its
    template's last newline; only the whole widget's output is stripped)."""
    id_, css = widget["attrs"].get("id"), widget["attrs"].get("class")
    id_attr = f' id="{conditional_escape(id_)}"' if id_ else ""
    class_attr = f' class="{conditional_escape(css)}"' if css else ""
    parts = [f"<div{id_attr}{class_attr}>"]
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{conditional_escape(group)}</label>")
        for option in options:
            parts.append(f"<div>\n    {write_option(option)}\n\n</div>")
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def write_file_input(widget) -> str | None:
    """``django/forms/widgets/clearable_file_input.html`` without a stored file (a new upload);
    a stored file's link and "clear" box are left to the template."""
    if widget.get("is_initial"):
        return None
    kind, name = conditional_escape(widget["type"]), conditional_escape(widget["name"])
    return f'<input type="{kind}" name="{name}"{attrs(widget)}>'


def write_select(widget) -> str:
    """``itsm/templates/django/forms/widgets/select.html``."""
    return f'<select name="{conditional_escape(widget["name"])}"{attrs(widget)}>{select_options(widget["optgroups"])}</select>'


INPUTS = ("text", "number", "email", "url", "password", "hidden", "date", "time", "datetime", "checkbox", "search", "tel")
WRITERS = {
    **{f"django/forms/widgets/{name}.html": write_input for name in INPUTS},
    "django/forms/widgets/input.html": write_input,
    "django/forms/widgets/textarea.html": write_textarea,
    "django/forms/widgets/select.html": write_select,
    "django/forms/widgets/radio.html": write_choices,
    "django/forms/widgets/radio_option.html": write_option,
    "django/forms/widgets/checkbox_option.html": write_option,
    "django/forms/widgets/checkbox_select.html": write_choices,
    "django/forms/widgets/clearable_file_input.html": write_file_input,
    "django/forms/widgets/file.html": write_input,
}


class FormRenderer(TemplatesSetting):
    def render(self, template_name, context, request=None):
        write = WRITERS.get(template_name)
        written = None if write is None else write(context["widget"])
        if written is None:
            return super().render(template_name, context, request)
        return written.strip()  # as Django's renderers strip a template's output
