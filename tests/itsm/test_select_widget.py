"""Select widgets are rendered by ``itsm_ui.select_options`` (a Python loop, not a template per
option) and must be the same markup as Django's own select template."""

import re

from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


class Sample(forms.Form):
    person = forms.ChoiceField(
        choices=[
            ("", "Nobody"),
            ("Service Desk", [("1", 'Ann "the boss" <A&B>'), ("2", "Bob")]),
            ("3", "Carol"),
        ]
    )
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B"), ("c", "C")])


def test_select_markup_matches_djangos_own_template_with_groups_selection_and_escaping():
    for data in ({"person": "1", "many": ["a", "c"]}, {"person": "", "many": []}, {"person": "3"}):
        ours = Sample(data, renderer=TemplatesSetting())
        djangos = Sample(data, renderer=DjangoTemplates())
        for name in ("person", "many"):
            assert _tags(ours[name]) == _tags(djangos[name])
    html = str(Sample({"person": "1"}, renderer=TemplatesSetting())["person"])
    assert '<optgroup label="Service Desk">' in html
    assert '<option value="1" selected>Ann &quot;the boss&quot; &lt;A&amp;B&gt;</option>' in html
