"""The form renderer's Python writers (``itsm.form_renderer``) write what the widget templates
write: every widget below is rendered both ways and compared."""

from datetime import date

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe

from itsm.form_renderer import WRITERS, FormRenderer

TEMPLATES = TemplatesSetting()
WRITTEN = FormRenderer()

WIDGETS = [
    (forms.TextInput(), "plain"),
    (forms.TextInput(attrs={"placeholder": 'Say "why" <here> & now', "required": True, "disabled": False}), "x"),
    (forms.TextInput(), None),
    (forms.TextInput(), '<script>alert("x")</script>'),
    (forms.TextInput(), mark_safe("<b>safe</b>")),
    (forms.NumberInput(attrs={"min": 0, "step": "any"}), 12345),
    (forms.NumberInput(), 0),
    (forms.EmailInput(), "a@example.com"),
    (forms.URLInput(), "https://example.com/?a=1&b=2"),
    (forms.PasswordInput(render_value=True), "secret"),
    (forms.HiddenInput(), 7),
    (forms.DateInput(attrs={"type": "date"}), date(2026, 12, 6)),
    (forms.DateTimeInput(attrs={"type": "datetime-local"}), "2026-12-06T04:00"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.CheckboxInput(attrs={"class": "a b", "aria-describedby": "x_helptext"}), ""),
    (forms.Textarea(attrs={"rows": 2}), "First line\nsecond <line> & more"),
    (forms.Textarea(), ""),
    (forms.Textarea(), None),
    (forms.Select(choices=[("", "Any"), ("1", "P1 — critical"), ("2", 'P2 "high"')]), "2"),
    (forms.Select(choices=[("Group", [("a", "A & B")]), ("c", "C")]), "a"),
    (forms.Select(choices=[]), None),
    (forms.RadioSelect(choices=[("work_note", "Work note"), ("comment", 'Reply <to> "them"')]), "comment"),
    (forms.RadioSelect(choices=[("a", "A"), ("G & c", [("b", "B"), ("c", "C")])], attrs={"class": "k"}), "c"),
    (forms.RadioSelect(choices=[("a", "A")]), None),
    (forms.CheckboxSelectMultiple(choices=[("x", "X & Y"), ("z", "Z")]), ["x", "z"]),
    (forms.CheckboxSelectMultiple(choices=[("x", "X")], attrs={"class": "columns"}), []),
    (forms.ClearableFileInput(), None),
    (forms.ClearableFileInput(attrs={"accept": ".png,.pdf", "required": True}), None),
    (forms.FileInput(), None),
]


@pytest.mark.parametrize(("widget", "value"), WIDGETS, ids=[f"{type(w).__name__}-{i}" for i, (w, _) in enumerate(WIDGETS)])
def test_a_widget_written_in_python_is_what_its_template_writes(widget, value):
    written = widget.render("field", value, attrs={"id": "id_field"}, renderer=WRITTEN)
    templated = widget.render("field", value, attrs={"id": "id_field"}, renderer=TEMPLATES)
    assert widget.template_name in WRITERS
    assert written == templated


@pytest.mark.parametrize("widget", [forms.RadioSelect, forms.CheckboxSelectMultiple])
@pytest.mark.parametrize("wrap_label", [True, False])
def test_an_option_written_alone_is_what_its_template_writes(widget, wrap_label):
    """A template looping over a field's options (``{{ radio.tag }}``) writes each one alone."""

    class ChoiceForm(forms.Form):
        choice = forms.ChoiceField(choices=[("a", "A & B"), ("b", "<b>")], widget=widget)

    written, templated = ChoiceForm(renderer=WRITTEN)["choice"], ChoiceForm(renderer=TEMPLATES)["choice"]
    tags = [option.tag(wrap_label=wrap_label) for option in written]
    assert tags == [option.tag(wrap_label=wrap_label) for option in templated]
    assert all(o.template_name in WRITERS for o in written)


def test_a_widget_with_its_own_template_is_rendered_by_it():
    widget = forms.SelectDateWidget(years=[2026])
    assert widget.template_name not in WRITERS
    assert widget.render("day", None, renderer=WRITTEN) == widget.render("day", None, renderer=TEMPLATES)


def test_a_stored_file_is_left_to_the_template():
    """The clearable file input's link to the stored file and its "clear" box: the template's."""

    class Stored:
        url = "/media/a&b.pdf"

        def __str__(self):
            return "a&b.pdf"

    widget = forms.ClearableFileInput()
    written = widget.render("file", Stored(), attrs={"id": "id_file"}, renderer=WRITTEN)
    assert written == widget.render("file", Stored(), attrs={"id": "id_file"}, renderer=TEMPLATES)
    assert 'href="/media/a&amp;b.pdf"' in written and "file-clear" in written
