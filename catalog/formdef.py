"""A catalog item's form: the definition (a list of field dicts, ``CatalogItem.form_fields``),
checked when saved; a submission (``Request.form_data``), checked against it; and the Django
form the portal's request page and the builder's preview render. One rule for every door: the
API, the pages and the admin all call ``validate_definition`` / ``validate_submission``.

A field: ``{"name": "laptop_model", "label": "Laptop model", "type": "dropdown",
"required": true, "options": ["13-inch", "15-inch"], "default_value": "", "help_text": "",
"condition": {"field": "needs_laptop", "value": "true"} | None}``.

- ``name``: ``^[a-z][a-z0-9_]{0,49}$``, unique in the form; ``label``: the text people read.
- ``type``: one of ``FieldType`` (text, textarea, number, dropdown, radio, checkbox, hidden,
  date, email).
- ``options``: non-empty distinct strings; required for dropdown and radio, refused otherwise.
- ``default_value``: a string valid for the type (a bool for a checkbox); required for hidden,
  whose default is what every submission stores, whatever the client sent. For the other types
  it is the value the form starts with.
- ``condition``: show the field only when an EARLIER field's submitted value, as a string
  ("true"/"false" for a checkbox), equals ``value``. A field its condition hides is not
  required and its answer is not kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.forms.utils import flatatt


class FieldType(models.TextChoices):
    """The nine types of a catalog form field."""

    TEXT = "text", "Text"
    TEXTAREA = "textarea", "Text area"
    NUMBER = "number", "Number"
    DROPDOWN = "dropdown", "Dropdown"
    RADIO = "radio", "Radio buttons"
    CHECKBOX = "checkbox", "Checkbox"
    HIDDEN = "hidden", "Hidden"
    DATE = "date", "Date"
    EMAIL = "email", "E-mail"


NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_FIELDS = 100
LABEL_MAX = 200
HELP_MAX = 500
OPTION_MAX = 200
TEXT_MAX = 1000
TEXTAREA_MAX = 10000
PROPERTIES = ("name", "label", "type", "required", "options", "default_value", "help_text", "condition")
WITH_OPTIONS = frozenset({FieldType.DROPDOWN, FieldType.RADIO})
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TRUE_WORDS = frozenset({"true", "on", "1", "yes"})
FALSE_WORDS = frozenset({"false", "off", "0", "no", ""})


class _Bad(Exception):
    """One value's problem (the message names no field: the caller adds the label)."""


def _label(field: Mapping[str, Any], index: int) -> str:
    label = field.get("label") if isinstance(field, Mapping) else None
    if isinstance(label, str) and label.strip():
        return f'"{label.strip()}"'
    name = field.get("name") if isinstance(field, Mapping) else None
    if isinstance(name, str) and name:
        return f'"{name}"'
    return f"field {index + 1}"


# --- One value against a type (shared by defaults and submissions) ---------------------------


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Bad("enter text")
    text = str(value).strip()
    if len(text) > limit:
        raise _Bad(f"use at most {limit} characters (it has {len(text)})")
    return text


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise _Bad("enter a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        number = value
    elif isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise _Bad("enter a number") from None
        if not parsed.is_finite():
            raise _Bad("enter a number")
        if parsed == parsed.to_integral_value():
            return int(parsed)
        number = float(parsed)
    else:
        raise _Bad("enter a number")
    if not math.isfinite(number):
        raise _Bad("enter a number")
    return int(number) if number.is_integer() else number


def _choice(value: Any, options: list[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise _Bad(f"choose one of: {', '.join(options)}")
    return value


def _checkbox(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise _Bad("answer true or false")


def _date(value: Any) -> str:
    if not isinstance(value, str) or not DATE_RE.match(value.strip()):
        raise _Bad("enter a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise _Bad("enter a real date as YYYY-MM-DD") from None


def _email(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("enter an e-mail address")
    text = value.strip()
    try:
        validate_email(text)
    except ValidationError:
        raise _Bad("enter a valid e-mail address") from None
    return text


def clean_value(kind: str, value: Any, options: list[str] | None = None) -> Any:
    """``value`` as stored for a field of type ``kind``; ``_Bad`` when it is not valid."""
    if kind == FieldType.TEXT or kind == FieldType.HIDDEN:
        return _text(value, TEXT_MAX)
    if kind == FieldType.TEXTAREA:
        return _text(value, TEXTAREA_MAX)
    if kind == FieldType.NUMBER:
        return _number(value)
    if kind in WITH_OPTIONS:
        return _choice(value, options or [])
    if kind == FieldType.CHECKBOX:
        return _checkbox(value)
    if kind == FieldType.DATE:
        return _date(value)
    if kind == FieldType.EMAIL:
        return _email(value)
    raise _Bad("has an unknown type")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_condition_text(value: Any) -> str:
    """A submitted value as a condition compares it: checkboxes "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


# --- The definition ----------------------------------------------------------------------------


def validate_definition(fields: Any) -> list[dict]:
    """The definition, normalised (every property present, strings stripped, checkbox
    defaults as bools); a ``ValidationError`` keyed ``form_fields[i].<property>`` listing every
    fault at once, each message naming the field by its label (or name)."""
    if fields is None:
        fields = []
    if not isinstance(fields, list):
        raise ValidationError({"form_fields": ["Give the form as a list of fields."]})
    if len(fields) > MAX_FIELDS:
        raise ValidationError(
            {"form_fields": [f"A form has at most {MAX_FIELDS} fields (this one has {len(fields)})."]}
        )
    errors: dict[str, list[str]] = {}
    result: list[dict] = []
    seen: dict[str, int] = {}

    def fault(index: int, prop: str | None, message: str) -> None:
        key = f"form_fields[{index}]" + (f".{prop}" if prop else "")
        errors.setdefault(key, []).append(message)

    for index, raw in enumerate(fields):
        if not isinstance(raw, Mapping):
            fault(index, None, f"Field {index + 1} must be an object of properties.")
            continue
        who = _label(raw, index)
        Who = who[0].upper() + who[1:]
        unknown = sorted(str(k) for k in raw if k not in PROPERTIES)
        if unknown:
            fault(index, None, f"{Who} has unknown properties: {', '.join(unknown)}.")
        field: dict[str, Any] = {}

        name = raw.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            fault(
                index, "name",
                f"{Who}: a name starts with a lower-case letter and holds only lower-case letters, "
                "digits and underscores (at most 50 characters).",
            )  # fmt: skip
        elif name in seen:
            fault(index, "name", f'{Who}: the name "{name}" is already used by field {seen[name] + 1}.')
        else:
            seen[name] = index
        field["name"] = name if isinstance(name, str) else ""

        label = raw.get("label")
        if not isinstance(label, str) or not label.strip():
            fault(index, "label", f"Field {index + 1} needs a label (the text people read).")
            field["label"] = ""
        elif len(label.strip()) > LABEL_MAX:
            fault(index, "label", f"{Who}: a label has at most {LABEL_MAX} characters.")
            field["label"] = label.strip()
        else:
            field["label"] = label.strip()

        kind = raw.get("type")
        if kind not in FieldType.values:
            fault(index, "type", f"{Who}: choose a type among {', '.join(FieldType.values)}.")
            kind = None
        field["type"] = kind or ""

        required = raw.get("required", False)
        if not isinstance(required, bool):
            fault(index, "required", f"{Who}: required is true or false.")
            required = False
        field["required"] = required

        options = raw.get("options") or []
        clean_options: list[str] = []
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            fault(index, "options", f"{Who}: give the options as a list of texts.")
        else:
            clean_options = [o.strip() for o in options]
            if any(not o for o in clean_options):
                fault(index, "options", f"{Who}: an option cannot be blank.")
            elif len(set(clean_options)) != len(clean_options):
                fault(index, "options", f"{Who}: each option is listed once.")
            elif any(len(o) > OPTION_MAX for o in clean_options):
                fault(index, "options", f"{Who}: an option has at most {OPTION_MAX} characters.")
            if kind in WITH_OPTIONS and not clean_options:
                fault(index, "options", f"{Who}: a {kind} field needs at least one option.")
            elif kind is not None and kind not in WITH_OPTIONS and clean_options:
                fault(index, "options", f"{Who}: only dropdown and radio fields have options.")
        field["options"] = clean_options if kind in WITH_OPTIONS else []

        default = raw.get("default_value", "")
        if default is None:
            default = ""
        if kind == FieldType.CHECKBOX:
            try:
                default = _checkbox(default)
            except _Bad:
                fault(index, "default_value", f"{Who}: the default of a checkbox is true or false.")
                default = False
        elif not isinstance(default, str):
            fault(index, "default_value", f"{Who}: the default value is a text.")
            default = ""
        elif kind is not None and default.strip():
            try:
                default = clean_value(kind, default, field["options"])
                default = default if isinstance(default, str) else str(default)
            except _Bad as bad:
                if kind not in WITH_OPTIONS or field["options"]:
                    fault(index, "default_value", f"{Who}: the default value is not valid: {bad}.")
        else:
            default = default.strip()
        if kind == FieldType.HIDDEN and default == "":
            fault(index, "default_value", f"{Who}: a hidden field needs a default value (what it always sends).")
        field["default_value"] = default

        help_text = raw.get("help_text", "") or ""
        if not isinstance(help_text, str):
            fault(index, "help_text", f"{Who}: the help text is a text.")
            help_text = ""
        elif len(help_text.strip()) > HELP_MAX:
            fault(index, "help_text", f"{Who}: help text has at most {HELP_MAX} characters.")
        field["help_text"] = help_text.strip()

        condition = raw.get("condition")
        field["condition"] = None
        if condition not in (None, {}, ""):
            if (
                not isinstance(condition, Mapping)
                or set(condition) - {"field", "value"}
                or not isinstance(condition.get("field"), str)
            ):
                fault(index, "condition", f'{Who}: a condition is {{"field": an earlier field\'s name, "value": a text}}.')
            else:
                target_name = condition["field"]
                value = condition.get("value", "")
                if isinstance(value, bool):
                    value = "true" if value else "false"
                target = next((f for f in result if f["name"] == target_name), None)
                if target is None or target_name == field["name"]:
                    fault(index, "condition", f'{Who}: the condition must name an earlier field (not "{target_name}").')
                elif not isinstance(value, str | int | float):
                    fault(index, "condition", f"{Who}: the condition's value is a text.")
                else:
                    value = str(value).strip()
                    if target["type"] == FieldType.CHECKBOX and value not in ("true", "false"):
                        fault(index, "condition", f'{Who}: a condition on a checkbox compares with "true" or "false".')
                    elif target["type"] in WITH_OPTIONS and value not in target["options"]:
                        fault(
                            index, "condition",
                            f"{Who}: the condition's value must be one of the options of "
                            f"\"{target['label'] or target['name']}\": {', '.join(target['options'])}.",
                        )  # fmt: skip
                    else:
                        field["condition"] = {"field": target_name, "value": value}
        result.append(field)
    if errors:
        raise ValidationError(errors)
    return result


# --- A submission ------------------------------------------------------------------------------


def _complete(field: Mapping[str, Any]) -> dict:
    """A stored field with every property (a definition saved before it was normalised)."""
    return {
        "name": field.get("name", ""), "label": field.get("label", ""), "type": field.get("type", FieldType.TEXT),
        "required": bool(field.get("required", False)), "options": list(field.get("options") or []),
        "default_value": field.get("default_value", ""), "help_text": field.get("help_text", "") or "",
        "condition": field.get("condition") or None,
    }  # fmt: skip


def visible(fields: list[dict], answers: Mapping[str, Any]) -> set[str]:
    """The names of the fields shown for ``answers`` (cleaned values): a field with a condition
    shows when the field it names shows and holds the condition's value."""
    shown: set[str] = set()
    for field in fields:
        condition = field.get("condition")
        if (
            not condition
            or (condition["field"] in shown and as_condition_text(answers.get(condition["field"])) == condition["value"])
        ):
            shown.add(field["name"])
    return shown


def validate_submission(fields: list[dict], data: Any) -> dict:
    """The cleaned answers to a form (numbers as int or float, checkboxes as bools, dates as
    "YYYY-MM-DD", hidden fields their default whatever was sent; an optional field left empty
    and a field its condition hides are left out); a ``ValidationError`` keyed
    ``form_data.<name>`` listing every fault at once, unknown keys refused by name."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValidationError({"form_data": ["Send the answers as an object of field names to values."]})
    errors: dict[str, list[str]] = {}
    fields = [_complete(f) for f in fields or []]
    names = {f["name"] for f in fields}
    for key in data:
        if key not in names:
            errors.setdefault(f"form_data.{key}", []).append(f'This form has no field named "{key}".')
    cleaned: dict[str, Any] = {}
    shown: set[str] = set()
    for field in fields:
        name, kind, label = field["name"], field["type"], field["label"] or field["name"]
        condition = field.get("condition")
        if condition and not (
            condition["field"] in shown
            and as_condition_text(cleaned.get(condition["field"])) == condition["value"]
        ):
            continue  # hidden by its condition: not required, not kept
        shown.add(name)
        if kind == FieldType.HIDDEN:
            cleaned[name] = field["default_value"]
            continue
        value = data.get(name)
        if kind == FieldType.CHECKBOX and value is None and not field["required"]:
            cleaned[name] = False
            continue
        if _empty(value):
            if field["required"]:
                errors.setdefault(f"form_data.{name}", []).append(f"{label} is required.")
            continue
        try:
            cleaned[name] = clean_value(kind, value, field.get("options"))
        except _Bad as bad:
            errors.setdefault(f"form_data.{name}", []).append(f"{label}: {bad}.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def hidden_names(definition: list[dict] | None) -> frozenset[str]:
    """The names of a form's hidden-type fields: answered by the service (their default), never
    by the customer's browser."""
    return frozenset(spec.get("name") for spec in definition or [] if spec.get("type") == FieldType.HIDDEN)


def without_hidden(definition: list[dict] | None) -> list[dict]:
    """The form as a customer gets it (page, preview, API): without its hidden-type fields."""
    return [spec for spec in definition or [] if spec.get("type") != FieldType.HIDDEN]


def error_fields(error: ValidationError) -> dict[str, list[str]]:
    """A ``ValidationError`` from this module as ``{key: [messages]}``."""
    if hasattr(error, "error_dict"):
        return {key: list(messages) for key, messages in error.message_dict.items()}
    return {"form_data": list(error.messages)}


# --- The Django form ---------------------------------------------------------------------------


class RequestForm(forms.Form):
    """The form of a catalog item as a customer sees it (the portal's request page and the
    builder's preview). Every Django field is optional: ``clean`` hands the answers to
    ``validate_submission``, so the page and the API refuse the same things with the same
    words. A field with a condition carries ``data-show-if-field`` / ``data-show-if-value``
    (``rows``) for the optional script; without it every field shows and a field its condition
    hides is simply not required."""

    def __init__(self, *args, definition: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.full_definition = definition or []
        # Hidden-type fields never reach the browser: the service injects their default.
        self.definition = [_complete(spec) for spec in without_hidden(definition)]
        self.cleaned_form_data: dict[str, Any] | None = None
        for spec in self.definition:
            self.fields[spec["name"]] = _django_field(spec)

    def rows(self):
        """(bound field, spec, wrapper attributes) per field, in order, for templates."""
        for spec in self.definition:
            condition = spec.get("condition")
            attrs = {"data-field-name": spec["name"]}
            if condition:
                attrs.update({"data-show-if-field": condition["field"], "data-show-if-value": condition["value"]})
            yield self[spec["name"]], spec, attrs

    def wrapped(self) -> list[dict]:
        """Per field, in order, what ``catalog/_request_form_fields.html`` renders: the bound
        field, its definition, its wrapper's attributes (``flatatt``: the condition for the
        script) and, for a field with a condition, the sentence that says when it applies."""
        labels = {spec["name"]: spec["label"] or spec["name"] for spec in self.definition}
        rows = []
        for field, spec, attrs in self.rows():
            condition = spec.get("condition")
            when = ""
            if condition:
                value = {"true": "ticked", "false": "not ticked"}.get(condition["value"], f"“{condition['value']}”")
                when = f"Only when “{labels.get(condition['field'], condition['field'])}” is {value}."
            rows.append({"field": field, "spec": spec, "attrs": flatatt(attrs), "when": when,
                         "required": bool(spec["required"])})  # fmt: skip
        return rows

    def clean(self):
        raw = {spec["name"]: self.cleaned_data.get(spec["name"]) for spec in self.definition}
        try:
            self.cleaned_form_data = validate_submission(self.full_definition, raw)
        except ValidationError as error:
            for key, messages in error_fields(error).items():
                name = key.removeprefix("form_data.")
                for message in messages:
                    self.add_error(name if name in self.fields else None, message)
        return self.cleaned_data


def _django_field(spec: dict) -> forms.Field:
    kind = spec["type"]
    common = {"label": spec["label"] or spec["name"], "help_text": spec.get("help_text", ""), "required": False}
    # The browser may insist only where the server always does: required, no condition.
    attrs = {"required": True} if spec["required"] and not spec.get("condition") and kind != FieldType.CHECKBOX else {}
    initial = spec.get("default_value")
    if kind == FieldType.TEXTAREA:
        field = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, **attrs}), **common)
    elif kind == FieldType.NUMBER:
        field = forms.CharField(widget=forms.NumberInput(attrs={"step": "any", **attrs}), **common)
    elif kind in WITH_OPTIONS:
        choices = [(o, o) for o in spec["options"]]
        if kind == FieldType.DROPDOWN:
            widget = forms.Select(choices=[("", "Choose…"), *choices], attrs=attrs)
        else:
            widget = forms.RadioSelect(choices=choices, attrs=attrs)
        field = forms.CharField(widget=widget, **common)
    elif kind == FieldType.CHECKBOX:
        field = forms.BooleanField(**common)
        initial = bool(initial)
    elif kind == FieldType.HIDDEN:
        field = forms.CharField(widget=forms.HiddenInput(), disabled=True, **common)
    elif kind == FieldType.DATE:
        field = forms.CharField(widget=forms.DateInput(attrs={"type": "date", **attrs}), **common)
    elif kind == FieldType.EMAIL:
        field = forms.CharField(widget=forms.EmailInput(attrs=attrs), **common)
    else:
        field = forms.CharField(widget=forms.TextInput(attrs=attrs), strip=False, **common)
    field.initial = initial if initial not in (None, "") else None
    field.catalog_required = bool(spec["required"])
    return field


def build_form(fields: list[dict], data=None, initial=None, **kwargs) -> RequestForm:
    """The request form for a definition (bound to ``data`` when given)."""
    return RequestForm(data=data, initial=initial, definition=fields, **kwargs)
