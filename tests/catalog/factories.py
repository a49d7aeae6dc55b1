"""Catalog records for tests, made as the product makes them: items through
``catalog.services.item_create`` (their form validated, levels and templates in order), requests
through ``catalog.services.request_create`` (number, form checked, SLA clocks, approvals)."""

from __future__ import annotations

from itertools import count

from catalog import services
from catalog.models import CatalogCategory, CatalogItem, Request
from conftest import make_user
from itsm.models import AssignmentGroup, GroupMembership
from itsm.roles import PERSONAS, Persona

_serial = count(1)

# A form with one field of each kind a test usually needs.
LAPTOP_FORM = [
    {"name": "needs_laptop", "label": "Need a laptop?", "type": "checkbox", "required": False},
    {"name": "laptop_model", "label": "Laptop model", "type": "dropdown", "required": True,
     "options": ["13-inch", "15-inch"], "condition": {"field": "needs_laptop", "value": "true"}},
    {"name": "start_date", "label": "Start date", "type": "date", "required": True},
    {"name": "cost_centre", "label": "Cost centre", "type": "hidden", "default_value": "IT-100"},
]  # fmt: skip


def catalog_manager():
    """A holder of service_catalog.manage (an IT service manager)."""
    return make_user(f"catalog-manager-{next(_serial)}", *PERSONAS[Persona.IT_SERVICE_MANAGER])


def make_group(name: str | None = None, *, members=(), leads=()) -> AssignmentGroup:
    group = AssignmentGroup.objects.create(name=name or f"Group {next(_serial)}")
    for person in members:
        GroupMembership.objects.create(group=group, user=person)
    for person in leads:
        GroupMembership.objects.create(group=group, user=person, role=GroupMembership.Role.LEAD)
    return group


def make_category(name: str | None = None, *, by=None, **data) -> CatalogCategory:
    return services.category_create(actor=by or catalog_manager(), data={"name": name or f"Category {next(_serial)}", **data})


def make_item(
    name: str | None = None, *, by=None, category: CatalogCategory | None = None, form_fields=None,
    levels=None, templates=None, **data,
) -> CatalogItem:  # fmt: skip
    """An item (by a catalog manager) in ``category`` (a new one by default). ``levels``:
    ``[{"mode": "any"|"every", "users": [...], "group": group}]``; ``templates``:
    ``[{"short_description": ..., "assignment_group": group}]``."""
    actor = by or catalog_manager()
    category = category or make_category(by=actor)
    return services.item_create(
        actor=actor, data={"name": name or f"Item {next(_serial)}", "category": category, **data},
        form_fields=form_fields or [], levels=levels, task_templates=templates,
    )  # fmt: skip


def make_request(*, requester, item: CatalogItem | None = None, form_data=None, requested_for=None, **data) -> Request:
    """Raised by ``requester`` for ``item`` (a new item without form or approval by default:
    approved at once)."""
    item = item or make_item()
    return services.request_create(
        actor=requester, catalog_item=item, form_data=form_data or {}, requested_for=requested_for, data=data or None
    )
