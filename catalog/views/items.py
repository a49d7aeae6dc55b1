"""Managing catalog items, one set of views in two doors: the desk (``/desk/catalog/items/…``)
and the portal's Manage Items tab (``/portal/catalog/manage/…``), ``door`` telling them apart.

Only holders of ``service_catalog.manage`` (IT service managers and above) reach these pages:
customers get the desk's polite refusal (desk) or a 404 (portal), agents a 404, as on the other
manager pages (the desk refusal is ``DeskMixin``'s page). Thin views: a form shapes the input,
a ``catalog.services`` function writes (and checks the policy and the form definition again), a
refusal comes back on the page with its message and field errors.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.views import View

from catalog import services
from catalog.forms import (
    CategoryForm,
    ItemForm,
    ItemListFilter,
    LevelForm,
    LevelFormSet,
    TaskTemplateForm,
    TaskTemplateFormSet,
    kept_rows,
)
from catalog.models import ApprovalLevel, CatalogCategory, CatalogItem, TaskTemplate
from itsm import policy
from itsm.errors import ItsmError, NotFound
from itsm.pagination import paginate
from itsm.views.base import record_or_404, submit

PAGE_SIZE = 25
MANAGE = "service_catalog.manage"
# The portal's tab strip (cat-portal's include); the pages render without it until it exists.
PORTAL_TABS = "catalog/portal/_tabs.html"

URL_NAMES = {
    "desk": {
        "list": "desk:catalog-item-list", "new": "desk:catalog-item-new", "edit": "desk:catalog-item-edit",
        "fields": "desk:catalog-item-fields", "preview": "desk:catalog-item-preview",
        "active": "desk:catalog-item-active",
    },
    "portal": {
        "list": "portal:catalog-manage", "new": "portal:catalog-manage-new", "edit": "portal:catalog-manage-edit",
        "fields": "portal:catalog-manage-fields", "preview": "portal:catalog-manage-preview",
        "active": "portal:catalog-manage-active",
    },
}  # fmt: skip
ITEM_TABS = (("edit", "Details"), ("fields", "Form fields"), ("preview", "Preview"))
# Where a service's error about a level or template row lands: "levels[1].users" → row 1, users.
ROW_KEY = re.compile(r"^(?P<set>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<field>[a-z_.]+))?$")


def may_manage(user) -> bool:
    return policy.has_permission(user, MANAGE)


def portal_tabs_template() -> str | None:
    try:
        get_template(PORTAL_TABS)
    except TemplateDoesNotExist:
        return None
    return PORTAL_TABS


class ManageView(LoginRequiredMixin, View):
    """A catalog management page: for holders of ``service_catalog.manage`` only. On the desk a
    customer gets the desk's refusal (``DeskMixin``) and an agent a 404; on the portal everyone
    else gets a 404, so customers never learn the pages are there."""

    door = "desk"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.door == "desk" and not policy.has_permission(request.user, "desk.access"):
            return render(request, "itsm/desk_refused.html", status=403)  # as DeskMixin says it
        if not may_manage(request.user):
            raise Http404("No such page.")
        return super().dispatch(request, *args, **kwargs)

    # --- Helpers the pages share -----------------------------------------------------------

    def url(self, name: str, *args) -> str:
        return reverse(URL_NAMES[self.door][name], args=args)

    def render_page(self, template: str, context: dict, *, status: int = 200):
        context = {
            "door": self.door,
            "base_template": "itsm/desk/base.html" if self.door == "desk" else "itsm/portal/base.html",
            "portal_tabs": portal_tabs_template() if self.door == "portal" else None,
            "portal_tab": "manage",
            "url_names": URL_NAMES[self.door],
            "urls": {name: reverse(url_name) for name, url_name in URL_NAMES[self.door].items()
                     if name in ("list", "new")},
            **context,
        }  # fmt: skip
        return render(self.request, template, context, status=status)

    def item_or_404(self, pk, queryset=None) -> CatalogItem:
        return record_or_404(self.request.user, CatalogItem, pk, queryset=queryset)

    def item_tabs(self, item: CatalogItem, current: str) -> list[dict]:
        return [
            {"name": name, "label": label, "url": self.url(name, item.pk), "current": name == current}
            for name, label in ITEM_TABS
        ]

    def refused(self, exc: ItsmError, form=None) -> str:
        """A refusal as the page says it: the service's message, with what it said about fields
        the page's forms do not show."""
        shown = set(form.fields) if form is not None else set()
        extra = [str(text) for name, texts in exc.fields.items()
                 if name not in shown and not ROW_KEY.match(name) and not name.startswith("form_fields")
                 for text in texts]  # fmt: skip
        return " ".join([exc.message, *dict.fromkeys(extra)])


# --- The list -------------------------------------------------------------------------------


def _count(model, **outer) -> Coalesce:
    rows = (
        model.objects.filter(item=OuterRef("pk"))
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class ItemListView(ManageView):
    """Every catalog item, active and inactive, by category then name, 25 to a page, with its
    approval summary and a deactivate / activate button. Three queries whatever the page holds
    (count, page, filter's categories)."""

    def get(self, request):
        form = ItemListFilter(request.GET or None)
        valid = form.is_valid() if form.is_bound else True
        queryset = (
            policy.readable(request.user, CatalogItem)
            .select_related("category", "fulfilment_group")
            .annotate(level_count=_count(ApprovalLevel), task_count=_count(TaskTemplate))
            .order_by("category__position", "category__name", "name", "pk")
        )
        page = paginate(request, form.filter(queryset), PAGE_SIZE)
        page.object_list = list(page.object_list)
        for item in page.object_list:
            item.fields_count = len(item.form_fields or [])
        context = {"page": page, "form": form, "filtered": form.is_filtered(),
                   "categories": list(form.fields["category"].queryset),
                   "active_url": URL_NAMES[self.door]["active"], "edit_url": URL_NAMES[self.door]["edit"],
                   "may_categories": self.door == "desk"}  # fmt: skip
        return self.render_page("catalog/items/list.html", context, status=200 if valid else 400)


class ItemActiveView(ManageView):
    """Deactivate an item (gone from Browse; its requests stay intact) or activate it again."""

    http_method_names = ["post"]

    def post(self, request, pk):
        item = self.item_or_404(pk)
        activate = request.POST.get("active") == "1"
        try:
            if activate:
                services.item_activate(actor=request.user, item=item)
                messages.success(request, f"“{item.name}” is active: customers can request it again.")
            else:
                services.item_deactivate(actor=request.user, item=item)
                messages.success(request, f"“{item.name}” is deactivated: it is no longer offered in the "
                                          "catalog. Its requests are kept.")  # fmt: skip
        except NotFound:
            raise Http404("No such catalog item.") from None
        except ItsmError as exc:
            messages.error(request, exc.message)
        then = request.POST.get("next", "")
        if then not in (self.url("list"), self.url("edit", item.pk)):
            then = self.url("list")
        return redirect(then)


# --- Create and edit: details, approval levels, task templates --------------------------------


def add_row_errors(exc: ItsmError, formsets: dict) -> None:
    """Put a service's errors about rows (``levels[1].users``, ``task_templates[0]``) on the row
    and field at fault; ``rows`` maps the service's index to the page's form."""
    for key, texts in exc.fields.items():
        match = ROW_KEY.match(key)
        if not match or match["set"] not in formsets:
            continue
        rows = formsets[match["set"]]
        index = int(match["index"])
        if index >= len(rows):
            continue
        form = rows[index]
        field = (match["field"] or "").split(".")[0]
        form.add_error(field if field in form.fields else None, list(texts))


def levels_data(rows) -> list[dict]:
    return [
        {"position": number, "mode": form.cleaned_data["mode"], "users": form.cleaned_data["users"],
         "group": form.cleaned_data["group"]}
        for number, form in enumerate(rows, start=1)
    ]  # fmt: skip


def templates_data(rows) -> list[dict]:
    return [
        {"position": number, "short_description": form.cleaned_data["short_description"],
         "description": form.cleaned_data["description"], "assignment_group": form.cleaned_data["assignment_group"]}
        for number, form in enumerate(rows, start=1)
    ]  # fmt: skip


class ItemDetailsView(ManageView):
    """A new item, or an item's Details tab: its details, its approval levels (in order, each
    "any one" or "every" approver, users and/or a group) and its fulfilment task templates (in
    order, each with a group). One save writes all three through the item service."""

    def load(self, pk):
        if pk is None:
            return None
        return self.item_or_404(pk, CatalogItem.objects.select_related("category", "fulfilment_group"))

    def forms(self, item, data=None):
        if data is not None:
            return (
                ItemForm(data),
                LevelFormSet(data, prefix="levels"),
                TaskTemplateFormSet(data, prefix="tasks"),
            )
        if item is None:
            return ItemForm(), LevelFormSet(prefix="levels"), TaskTemplateFormSet(prefix="tasks")
        levels = [LevelForm.initial_for(level) for level in item.approval_levels.prefetch_related("users")]
        templates = [TaskTemplateForm.initial_for(t) for t in item.task_templates.order_by("position", "pk")]
        return (
            ItemForm(initial=ItemForm.initial_for(item)),
            LevelFormSet(prefix="levels", initial=levels),
            TaskTemplateFormSet(prefix="tasks", initial=templates),
        )

    def page(self, item, form, levels, templates, *, status=200):
        context = {
            "item": item, "form": form, "levels": levels, "templates": templates,
            "tabs": self.item_tabs(item, "edit") if item else [],
            "action": self.url("edit", item.pk) if item else self.url("new"),
            "active_url": URL_NAMES[self.door]["active"],
        }  # fmt: skip
        return self.render_page("catalog/items/details.html", context, status=status)

    def get(self, request, pk=None):
        item = self.load(pk)
        return self.page(item, *self.forms(item))

    def post(self, request, pk=None):
        item = self.load(pk)
        form, levels, templates = self.forms(item, request.POST)
        valid = all([form.is_valid(), levels.is_valid(), templates.is_valid()])
        if not valid:
            if self.door == "desk":
                messages.error(request, "Nothing was saved: please correct the form below.")
            else:
                form.add_error(None, "Nothing was saved: please correct the form below.")
            return self.page(item, form, levels, templates, status=400)
        level_rows, template_rows = kept_rows(levels), kept_rows(templates)
        data = dict(form.cleaned_data)
        expected_version = data.pop("version", None)
        try:
            if item is None:
                item = services.item_create(
                    actor=request.user, data=data, form_fields=[],
                    levels=levels_data(level_rows), task_templates=templates_data(template_rows),
                )  # fmt: skip
                done = f"“{item.name}” is created. Now add the fields of its request form."
                then = self.url("fields", item.pk)
            else:
                item = services.item_update(
                    actor=request.user, item=item, data=data, expected_version=expected_version,
                    levels=levels_data(level_rows), task_templates=templates_data(template_rows),
                )  # fmt: skip
                done = f"“{item.name}” is saved."
                then = self.url("edit", item.pk)
        except NotFound:
            raise Http404("No such catalog item.") from None
        except ItsmError as exc:
            for name, texts in exc.fields.items():
                if name in form.fields:
                    form.add_error(name, list(texts))
            add_row_errors(exc, {"levels": level_rows, "task_templates": template_rows})
            message = self.refused(exc, form)
            if self.door == "desk":
                messages.error(request, message)
            else:
                form.add_error(None, message)
            return self.page(item, form, levels, templates, status=exc.status)
        messages.success(request, done)
        return redirect(then)


# --- Categories (desk) ----------------------------------------------------------------------


class CategoryListView(ManageView):
    """The catalog's categories, in order, each editable in place, and a form for a new one."""

    def page(self, *, new_form=None, edit_form=None, editing=None, status=200):
        categories = list(
            policy.readable(self.request.user, CatalogCategory)
            .annotate(item_count=Count("items"))
            .order_by("position", "name")
        )
        context = {
            "categories": categories,
            "new_form": new_form or CategoryForm(prefix="new"),
            "edit_form": edit_form, "editing": editing,
        }  # fmt: skip
        return self.render_page("catalog/items/categories.html", context, status=status)

    def get(self, request):
        editing = None
        edit_form = None
        pk = request.GET.get("edit", "")
        if pk.isdigit():
            editing = policy.readable(request.user, CatalogCategory).filter(pk=pk).first()
            if editing is not None:
                edit_form = CategoryForm(prefix="edit", initial=CategoryForm.initial_for(editing))
        return self.page(edit_form=edit_form, editing=editing)

    def post(self, request):
        pk = request.POST.get("category", "")
        editing = record_or_404(request.user, CatalogCategory, pk) if pk else None
        form = CategoryForm(request.POST, prefix="edit" if editing else "new")
        forms = {"edit_form": form, "editing": editing} if editing else {"new_form": form}

        def save(data) -> str:
            if editing is None:
                return f"Category “{services.category_create(actor=request.user, data=data).name}” is created."
            category = services.category_update(actor=request.user, category=editing, data=data)
            return f"Category “{category.name}” is saved."

        return submit(
            request, form, save, page=lambda status: self.page(status=status, **forms),
            then=reverse("desk:catalog-category-list"), refusal=lambda exc: self.refused(exc, form),
        )  # fmt: skip
