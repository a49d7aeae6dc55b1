"""Page forms for managing catalog items (desk and portal alike): the item's details, its
approval levels and task templates (formsets), and the form builder's field rows.

The forms only shape input: the rules of a form definition (names, options, defaults,
conditions…) are ``catalog.formdef.validate_definition``'s, run by the item services, and their
messages come back onto the row and field at fault (``field_errors``).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model

from catalog.models import ApprovalMode, CatalogCategory, CatalogItem, FieldType
from itsm.forms import GroupChoiceField
from itsm.models import AssignmentGroup, Priority
from itsm.people import UsernamesInput


def group_field(label: str, help_text: str = "") -> forms.ModelChoiceField:
    return GroupChoiceField(
        label=label, required=False, help_text=help_text, empty_label="None",
        queryset=AssignmentGroup.objects.filter(is_active=True).order_by("name"),
    )  # fmt: skip


class ItemForm(forms.Form):
    """An item's details."""

    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    icon = forms.CharField(
        label="Icon",
        max_length=40,
        required=False,
        help_text="An icon name or an emoji, shown in the catalog.",
    )
    category = forms.ModelChoiceField(
        label="Category", queryset=CatalogCategory.objects.none(), empty_label=None
    )
    fulfilment_group = group_field("Fulfilment group", "The team that fulfils its requests.")
    priority = forms.ChoiceField(
        label="Priority", choices=Priority.choices, initial=Priority.P4,
        help_text="The priority of its requests, and so their SLA.",
    )  # fmt: skip
    active = forms.BooleanField(
        label="Active",
        required=False,
        initial=True,
        help_text="Inactive items are not offered in the catalog.",
    )

    # The version the editor loaded: a save over someone else's meanwhile is refused (409).
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = CatalogCategory.objects.order_by("position", "name")

    @classmethod
    def initial_for(cls, item: CatalogItem) -> dict:
        return {
            "name": item.name, "description": item.description, "icon": item.icon,
            "category": item.category_id, "fulfilment_group": item.fulfilment_group_id,
            "priority": item.priority, "active": item.active, "version": item.version,
        }  # fmt: skip


class UsernamesField(forms.CharField):
    """Users named by their user names, separated by commas or spaces: a plain text box that
    works for any number of users (no list of every account on the page)."""

    default_error_messages = {"unknown": "No active user is called %(names)s."}

    def clean(self, value):
        value = super().clean(value)
        names = list(dict.fromkeys(part for part in re.split(r"[\s,;]+", value or "") if part))
        if not names:
            return []
        User = get_user_model()
        found = {u.get_username().lower(): u for u in User.objects.filter(is_active=True, username__in=names)}
        missing = [name for name in names if name.lower() not in found]
        if missing:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown",
                                        params={"names": ", ".join(missing)})  # fmt: skip
        return [found[name.lower()] for name in names]


class LevelForm(forms.Form):
    """One approval level: who decides (users and/or a group) and whether one or all of them."""

    mode = forms.ChoiceField(label="Who must approve", choices=ApprovalMode.choices, initial=ApprovalMode.ANY)
    users = UsernamesField(
        label="Approvers", required=False, help_text="User names, separated by commas.",
        widget=UsernamesInput("catalog.approvallevel.users"),
    )  # fmt: skip
    group = group_field("Approver group", "Its active members approve.")

    def has_content(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("users") or data.get("group"))

    @staticmethod
    def initial_for(level) -> dict:
        return {
            "mode": level.mode, "group": level.group_id,
            "users": ", ".join(user.get_username() for user in level.users.all()),
        }  # fmt: skip


class TaskTemplateForm(forms.Form):
    """One fulfilment task made when a request is fulfilled."""

    short_description = forms.CharField(label="Task", max_length=200, required=False)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignment_group = group_field("Group", "None: the item's fulfilment group.")

    def has_content(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("short_description") or data.get("description") or data.get("assignment_group"))

    @staticmethod
    def initial_for(template) -> dict:
        return {
            "short_description": template.short_description, "description": template.description,
            "assignment_group": template.assignment_group_id,
        }  # fmt: skip


LevelFormSet = forms.formset_factory(LevelForm, extra=1, can_order=True, can_delete=True, max_num=20)
TaskTemplateFormSet = forms.formset_factory(
    TaskTemplateForm, extra=1, can_order=True, can_delete=True, max_num=50
)


def kept_rows(formset) -> list:
    """The formset's filled rows in the order asked, without the removed ones."""
    return [form for form in formset.ordered_forms if form.cleaned_data and form.has_content()]


# --- The form builder -----------------------------------------------------------------------


class FieldRowForm(forms.Form):
    """One field of an item's form, as the builder edits it. Every rule of a definition is
    ``validate_definition``'s; this form only turns the row into the definition's dict."""

    name = forms.CharField(
        label="Name", required=False,
        help_text="Machine name: lower-case letters, digits and _, starting with a letter.",
    )  # fmt: skip
    label = forms.CharField(label="Label", required=False)
    type = forms.ChoiceField(label="Type", choices=FieldType.choices, initial=FieldType.TEXT)
    required = forms.BooleanField(label="Required", required=False)
    options = forms.CharField(
        label="Options", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a dropdown or radio buttons: one option per line.",
    )  # fmt: skip
    default_value = forms.CharField(
        label="Default value", required=False,
        help_text="For a checkbox: true or false. A hidden field needs one.",
    )  # fmt: skip
    help_text = forms.CharField(label="Help text", required=False)
    condition_field = forms.CharField(
        label="Show only when field", required=False,
        help_text="The name of an earlier field; empty: always shown.",
    )  # fmt: skip
    condition_value = forms.CharField(label="has the value", required=False)

    # Where each part of a definition's error lands on the row.
    ERROR_FIELDS = {
        "name": "name", "label": "label", "type": "type", "required": "required",
        "options": "options", "default_value": "default_value", "help_text": "help_text",
        "condition": "condition_field", "condition.field": "condition_field",
        "condition.value": "condition_value",
    }  # fmt: skip
    CONTENT = ("name", "label", "options", "default_value", "help_text", "condition_field", "condition_value")

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not any((data.get(name) or "").strip() for name in self.CONTENT)

    def definition(self) -> dict:
        """The row as a form definition's field dict."""
        data = self.cleaned_data
        kind = data.get("type") or FieldType.TEXT
        # A checkbox's "true"/"false" becomes a bool in validate_definition, which says what is wrong.
        default = (data.get("default_value") or "").strip()
        condition = None
        if (data.get("condition_field") or "").strip() or (data.get("condition_value") or "").strip():
            condition = {"field": data["condition_field"].strip(), "value": data["condition_value"].strip()}
        return {
            "name": data["name"].strip(),
            "label": data["label"].strip(),
            "type": kind,
            "required": bool(data.get("required")),
            "options": [line.strip() for line in (data.get("options") or "").splitlines() if line.strip()],
            "default_value": default,
            "help_text": data["help_text"].strip(),
            "condition": condition,
        }

    @staticmethod
    def initial_for(field: dict) -> dict:
        """A definition's field dict as the row's initial values."""
        default = field.get("default_value", "")
        if isinstance(default, bool):
            default = "true" if default else "false"
        condition = field.get("condition") or {}
        return {
            "name": field.get("name", ""),
            "label": field.get("label", ""),
            "type": field.get("type", FieldType.TEXT),
            "required": bool(field.get("required")),
            "options": "\n".join(str(option) for option in field.get("options") or []),
            "default_value": "" if default is None else str(default),
            "help_text": field.get("help_text", ""),
            "condition_field": condition.get("field", ""),
            "condition_value": condition.get("value", ""),
        }


class BaseFieldRowFormSet(forms.BaseFormSet):
    def rows(self) -> list[FieldRowForm]:
        """The filled rows in the order asked, without the removed and the blank ones."""
        return [form for form in self.ordered_forms if form.cleaned_data is not None and not form.is_blank()]


# No extra rows of its own: the builder decides how many empty rows to show (one, and one more
# each time "Add a field" is pressed), so "Add" works without JavaScript.
FieldRowFormSet = forms.formset_factory(
    FieldRowForm, formset=BaseFieldRowFormSet, extra=0, can_order=True, can_delete=True, max_num=120,
    absolute_max=200,
)  # fmt: skip


class CategoryForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    icon = forms.CharField(label="Icon", max_length=40, required=False, help_text="An icon name or an emoji.")
    position = forms.IntegerField(label="Position", min_value=0, initial=0, help_text="Lower comes first.")
    active = forms.BooleanField(label="Active", required=False, initial=True)

    @staticmethod
    def initial_for(category: CatalogCategory) -> dict:
        return {
            "name": category.name, "description": category.description, "icon": category.icon,
            "position": category.position, "active": category.active,
        }  # fmt: skip


class ItemListFilter(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    category = forms.ModelChoiceField(
        label="Category", required=False, queryset=CatalogCategory.objects.none(), empty_label="All"
    )
    active = forms.ChoiceField(
        label="Status", required=False, choices=[("", "All"), ("yes", "Active"), ("no", "Inactive")]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = CatalogCategory.objects.order_by("position", "name")

    def filter(self, queryset):
        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["category"] is not None:
            queryset = queryset.filter(category=data["category"])
        if data["active"]:
            queryset = queryset.filter(active=data["active"] == "yes")
        return queryset

    def is_filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())
