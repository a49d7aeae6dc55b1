"""Catalog writes other than the request transitions: raising a request (its form checked against
the item's), editing and assigning it, its notes and tasks; and the catalog itself (categories,
items with their form, approval levels and task templates). Each is keyword-only, atomic,
policy-checked and journaled; nothing is written when the input is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from catalog import formdef, workflows
from catalog.models import (
    ApprovalLevel,
    ApprovalMode,
    CatalogCategory,
    CatalogItem,
    FormVersion,
    Request,
    RequestNote,
    RequestTask,
    TaskTemplate,
)
from itsm import audit, notes, policy, services
from itsm.bulk_actions import ASSIGNEES, SOMEONE, BulkAction, BulkActions
from itsm.errors import InvalidInput, NotAllowed, NotFound
from itsm.models import AssignmentGroup
from itsm.workflow import locked_for
from sla import clocks

MANAGE_REQUESTS = "service_requests.manage"
MAX_LEVELS = 10
MAX_TEMPLATES = 50


def _is_agent(user) -> bool:
    return policy.has_permission(user, MANAGE_REQUESTS)


# --- Who a request may name -------------------------------------------------------------------


def people_errors(*, requester, data: Mapping[str, Any], current: Request | None = None) -> dict[str, list[str]]:
    """The requested-for person is active and of the requester's organisation (no organisation
    counts as one of its own), unless the requester or the person is an agent: naming someone
    lets them read the request, so a customer cannot show its request to another organisation.
    A value ``current`` already has is not named anew."""
    errors: dict[str, list[str]] = {}
    if "requested_for" in data and (current is None or current.requested_for_id != getattr(data["requested_for"], "pk", None)):
        person = data["requested_for"]
        if person is not None:
            if not person.is_active:
                errors["requested_for"] = [f"{person} is no longer active."]
            elif (
                requester is not None
                and person.organisation_id != requester.organisation_id
                and not _is_agent(requester)
                and not _is_agent(person)
            ):
                errors["requested_for"] = [f"{person} belongs to another organisation than {requester}."]
    if "requester" in data and (current is None or current.requester_id != getattr(data["requester"], "pk", None)):
        person = data["requester"]
        if person is not None and not person.is_active:
            errors["requester"] = [f"{person} is no longer active."]
    return errors


def _assignment_errors(after: Mapping[str, Any], named) -> dict[str, list[str]]:
    return services.assignment_errors(
        after=after, named=named, permission=MANAGE_REQUESTS,
        refusal="Only service-desk agents can be assigned requests.",
    )  # fmt: skip


# --- Requests ---------------------------------------------------------------------------------


@transaction.atomic
def request_create(
    *, actor, catalog_item: CatalogItem | int | None, form_data: Any, requested_for=None,
    data: Mapping[str, Any] | None = None,
) -> Request:  # fmt: skip
    """Raise a request for a catalog item (anyone signed in may, for an active item they can
    see). ``form_data`` is checked against the item's form (``formdef.validate_submission``);
    ``requested_for`` is the actor or someone of its organisation (agents raise for anyone).
    Every fault is reported at once (``form_data.<name>``, ``requested_for``, ``catalog_item``)
    and nothing is written. The request gets the item's priority (and so its SLA) and fulfilment
    group, keeps a copy of the form it answered, then waits for approval or is approved at once
    (``workflows.begin``)."""
    if not policy.can(actor, "create", Request):
        raise NotAllowed("You may not raise requests.")
    data = dict(data or {})
    if requested_for is not None:
        data["requested_for"] = requested_for
    errors: dict[str, list[str]] = {}
    item = _offered_item(actor, catalog_item)
    if item is None:
        errors["catalog_item"] = ["Choose an item the catalog offers."]
        cleaned: dict = {}
    else:
        try:
            cleaned = formdef.validate_submission(item.form_fields, form_data)
        except ValidationError as error:
            errors.update(formdef.error_fields(error))
            cleaned = {}
    try:
        services.check_fields(actor, Request, data)
    except InvalidInput as error:
        errors.update(error.fields)
    else:
        errors.update(people_errors(requester=actor, data=data))
    if errors:
        raise InvalidInput("The request cannot be raised as asked.", fields=errors)
    person = data.get("requested_for") or actor
    system: dict[str, Any] = {
        "requester": actor,
        "organisation": getattr(person, "organisation", None) or getattr(actor, "organisation", None),
        "catalog_item": item,
        "form_data": cleaned,
        "form_version": form_version(item),
        "priority": item.priority,
        "assignment_group": item.fulfilment_group,
    }
    for name in list(system):
        if name in data:
            del system[name]
    data.setdefault("short_description", item.name[:200])
    request = services.record_create(model=Request, actor=actor, data=data, **system)
    return workflows.begin(request=request, actor=actor)


def form_version(item: CatalogItem) -> FormVersion:
    """The stored version of the item's current form (written the first time a request answers
    it; two requests racing to write it get the same row)."""
    digest = FormVersion.digest_of(item.form_fields)
    version, _ = FormVersion.objects.get_or_create(item=item, digest=digest, defaults={"fields": item.form_fields})
    return version


def _offered_item(actor, catalog_item) -> CatalogItem | None:
    """The item if it is active and the actor may read it (else None)."""
    if catalog_item is None:
        return None
    pk = catalog_item.pk if isinstance(catalog_item, CatalogItem) else catalog_item
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    offered = policy.readable(actor, CatalogItem).filter(pk=pk, active=True, category__active=True)
    return offered.select_related("fulfilment_group").first()


@transaction.atomic
def request_update(
    *, request: Request, actor, data: Mapping[str, Any], expected_version: int | None = None
) -> Request:
    """Edit the fields the actor may write (SPEC §4: agents on whatever they read; the customer
    the short description and description while submitted, and the requested-for person of its
    organisation). The people and group follow ``request_assign``'s rules; a new priority moves
    the SLA targets."""
    data = dict(data)
    old_priority = request.priority

    def check(current: Request) -> None:
        errors = people_errors(requester=current.requester or actor, data=data, current=current)
        after = {"assignee": current.assignee, "assignment_group": current.assignment_group, **data}
        errors.update(
            _assignment_errors(after, lambda n: n in data and getattr(current, n) != data[n])
        )
        if errors:
            raise InvalidInput("The request cannot name these people.", fields=errors)

    request = services.record_update(
        obj=request, actor=actor, data=data, expected_version=expected_version, check=check
    )
    if request.priority != old_priority:
        clocks.retarget(request)
    return request


@transaction.atomic
def request_assign(*, request: Request, actor, assignee=None, assignment_group=None) -> Request:
    """Assign to an agent, a group, or both (the agent then a member of the group); both None
    unassigns (``service_requests.manage``, while the request is open)."""
    request = locked_for(request, actor, "assign")
    chosen = {"assignee": assignee, "assignment_group": assignment_group}
    errors = _assignment_errors(chosen, lambda n: True)
    if errors:
        raise InvalidInput("The request cannot be assigned as asked.", fields=errors)
    services.apply_changes(request, actor, chosen)
    return request


# --- Notes ------------------------------------------------------------------------------------

NOTE_ACTION = {RequestNote.Kind.COMMENT: "comment", RequestNote.Kind.WORK_NOTE: "work_note"}
# The journal field a note's change is written under: the work journal is hidden from customers.
NOTE_JOURNAL = {RequestNote.Kind.COMMENT: "conversation", RequestNote.Kind.WORK_NOTE: "work_journal"}


@transaction.atomic
def request_note_add(*, request: Request, actor, kind: str, body: str) -> RequestNote:
    """Add a comment (the requester, requested-for person, approvers and agents) or a work note
    (agents only). An agent's comment is the request's first response."""
    if kind not in NOTE_ACTION:
        raise InvalidInput("Unknown note kind.", fields={"kind": ["Choose comment or work_note."]})
    text = notes.note_body(body)
    request = locked_for(request, actor, NOTE_ACTION[kind])
    note = RequestNote.objects.create(request=request, kind=kind, author=actor, body=text)
    if kind == RequestNote.Kind.COMMENT and _is_agent(actor):
        clocks.stop_response(request, note="first reply")
    return note


def _note_terms(note: RequestNote) -> dict[str, str]:
    """How ``itsm.notes`` edits a request note: the note's own action (who may add it), the
    journal field its readers read, its name."""
    return {"parent": "request", "action": NOTE_ACTION[note.kind], "journal": NOTE_JOURNAL[note.kind],
            "label": note.get_kind_display()}  # fmt: skip


@transaction.atomic
def request_note_edit(*, note: RequestNote, actor, body: str) -> RequestNote:
    """Change a note's text (its author or an ITSM administrator); the journal keeps the old one."""
    return notes.note_edit(note, actor, body, **_note_terms(note))


@transaction.atomic
def request_note_delete(*, note: RequestNote, actor) -> None:
    """Remove a note (its author or an ITSM administrator); the journal keeps its text."""
    notes.note_delete(note, actor, **_note_terms(note))


# --- Tasks ------------------------------------------------------------------------------------


def request_task_create(*, request: Request, actor, data: Mapping[str, Any]) -> RequestTask:
    """Add a task under a request by hand (agents; SPEC §4: as incident tasks)."""
    return services.task_create(parent=request, model=RequestTask, actor=actor, data=data)


# --- The catalog: categories ------------------------------------------------------------------


@transaction.atomic
def category_create(*, actor, data: Mapping[str, Any]) -> CatalogCategory:
    return services.record_create(model=CatalogCategory, actor=actor, data=data)


@transaction.atomic
def category_update(*, category: CatalogCategory, actor, data: Mapping[str, Any]) -> CatalogCategory:
    """Edit a category (``service_catalog.manage``). Categories carry no version: a concurrent
    edit of a name or a position is simply the later one."""
    return services.record_update(obj=category, actor=actor, data=data)


# --- Items: their form, approval levels and task templates ------------------------------------


def _pk(value):
    return getattr(value, "pk", value)


def _group(value, key: str, errors: dict) -> AssignmentGroup | None:
    if value in (None, ""):
        return None
    group = AssignmentGroup.objects.filter(pk=_pk(value)).first() if str(_pk(value)).isdigit() else None
    if group is None:
        errors.setdefault(key, []).append("No such assignment group.")
    elif not group.is_active:
        errors.setdefault(key, []).append(f"{group} is inactive.")
    return group


def clean_levels(levels: Any) -> tuple[list[dict], dict[str, list[str]]]:
    """Approval levels as ``[{"mode": "any"|"every", "users": [users or ids], "group": group,
    id or None}]`` (in order; their positions follow it), checked: each needs people, a group
    or both. Returns the cleaned levels and the errors keyed ``levels[i].<property>``."""
    errors: dict[str, list[str]] = {}
    if levels is None:
        return [], errors
    if not isinstance(levels, Sequence) or isinstance(levels, str | bytes):
        return [], {"levels": ["Give the approval levels as a list."]}
    if len(levels) > MAX_LEVELS:
        return [], {"levels": [f"An item has at most {MAX_LEVELS} approval levels."]}
    User = get_user_model()
    cleaned = []
    for index, raw in enumerate(levels):
        key = f"levels[{index}]"
        if not isinstance(raw, Mapping):
            errors[key] = [f"Approval level {index + 1} must be an object."]
            continue
        unknown = sorted(set(raw) - {"mode", "users", "group", "position", "id"})
        if unknown:
            errors[key] = [f"Approval level {index + 1} has unknown properties: {', '.join(map(str, unknown))}."]
        mode = raw.get("mode", ApprovalMode.ANY) or ApprovalMode.ANY
        if mode not in ApprovalMode.values:
            errors[f"{key}.mode"] = [f"Approval level {index + 1}: choose any or every."]
        ids = raw.get("users") or []
        if not isinstance(ids, Sequence) or isinstance(ids, str | bytes):
            errors[f"{key}.users"] = [f"Approval level {index + 1}: give the approvers as a list."]
            ids = []
        wanted = [_pk(u) for u in ids]
        if not all(isinstance(pk, int) and not isinstance(pk, bool) for pk in wanted):
            errors[f"{key}.users"] = [f"Approval level {index + 1}: give approvers by their ids."]
            wanted = []
        people = list(User.objects.filter(pk__in=wanted, is_active=True))
        missing = sorted(set(wanted) - {p.pk for p in people})
        if missing:
            errors[f"{key}.users"] = [
                f"Approval level {index + 1}: no active user with id {', '.join(map(str, missing))}."
            ]
        group = _group(raw.get("group"), f"{key}.group", errors)
        if not wanted and raw.get("group") in (None, ""):
            errors.setdefault(key, []).append(f"Approval level {index + 1} needs approvers: people, a group or both.")
        cleaned.append({"position": index + 1, "mode": mode, "users": people, "group": group})
    return cleaned, errors


def clean_templates(templates: Any) -> tuple[list[dict], dict[str, list[str]]]:
    """Task templates as ``[{"short_description", "description", "assignment_group"}]`` (in
    order), checked. Returns the cleaned templates and the errors keyed
    ``task_templates[i].<property>``."""
    errors: dict[str, list[str]] = {}
    if templates is None:
        return [], errors
    if not isinstance(templates, Sequence) or isinstance(templates, str | bytes):
        return [], {"task_templates": ["Give the task templates as a list."]}
    if len(templates) > MAX_TEMPLATES:
        return [], {"task_templates": [f"An item has at most {MAX_TEMPLATES} task templates."]}
    cleaned = []
    for index, raw in enumerate(templates):
        key = f"task_templates[{index}]"
        if not isinstance(raw, Mapping):
            errors[key] = [f"Task {index + 1} must be an object."]
            continue
        unknown = sorted(set(raw) - {"short_description", "description", "assignment_group", "position", "id"})
        if unknown:
            errors[key] = [f"Task {index + 1} has unknown properties: {', '.join(map(str, unknown))}."]
        short = raw.get("short_description")
        if not isinstance(short, str) or not short.strip():
            errors[f"{key}.short_description"] = [f"Task {index + 1} needs a short description."]
            short = ""
        elif len(short.strip()) > 200:
            errors[f"{key}.short_description"] = [f"Task {index + 1}: at most 200 characters."]
        description = raw.get("description") or ""
        if not isinstance(description, str):
            errors[f"{key}.description"] = [f"Task {index + 1}: the description is a text."]
            description = ""
        group = _group(raw.get("assignment_group"), f"{key}.assignment_group", errors)
        cleaned.append(
            {"position": index + 1, "short_description": short.strip(), "description": description.strip(),
             "assignment_group": group}
        )  # fmt: skip
    return cleaned, errors


def _definition(form_fields: Any) -> tuple[list[dict], dict[str, list[str]]]:
    try:
        return formdef.validate_definition(form_fields), {}
    except ValidationError as error:
        return [], formdef.error_fields(error)


def _describe_levels(levels) -> str:
    return "; ".join(
        f"{lv['position']}: {lv['mode']} of "
        + ", ".join([*(u.get_username() for u in lv["users"]), *([f"group {lv['group']}"] if lv["group"] else [])])
        for lv in levels
    )


def _current_levels(item: CatalogItem) -> list[dict]:
    return [
        {"position": lv.position, "mode": lv.mode, "users": list(lv.users.all()), "group": lv.group}
        for lv in item.approval_levels.prefetch_related("users").select_related("group")
    ]


def _describe_templates(templates) -> str:
    return "; ".join(
        f"{t['position']}: {t['short_description']}"
        + (f" ({t['assignment_group']})" if t["assignment_group"] else "")
        for t in templates
    )


def _current_templates(item: CatalogItem) -> list[dict]:
    return [
        {"position": t.position, "short_description": t.short_description, "description": t.description,
         "assignment_group": t.assignment_group}
        for t in item.task_templates.select_related("assignment_group")
    ]  # fmt: skip


def _replace_levels(item: CatalogItem, actor, levels: list[dict]) -> bool:
    old = _describe_levels(_current_levels(item))
    new = _describe_levels(levels)
    if old == new:
        return False
    item.approval_levels.all().delete()
    for level in levels:
        row = ApprovalLevel.objects.create(item=item, position=level["position"], mode=level["mode"], group=level["group"])
        row.users.set(level["users"])
    audit.change_entry(item, actor, "approval_levels", old, new).save()
    return True


def _replace_templates(item: CatalogItem, actor, templates: list[dict]) -> bool:
    current = _current_templates(item)
    if current == templates:
        return False
    item.task_templates.all().delete()
    TaskTemplate.objects.bulk_create(
        TaskTemplate(
            item=item, position=t["position"], short_description=t["short_description"],
            description=t["description"], assignment_group=t["assignment_group"],
        )
        for t in templates
    )  # fmt: skip
    audit.change_entry(item, actor, "task_templates", _describe_templates(current), _describe_templates(templates)).save()
    return True


def _item_input(form_fields, levels, task_templates) -> tuple[dict, list, list, dict]:
    errors: dict[str, list[str]] = {}
    definition, problems = _definition(form_fields) if form_fields is not None else (None, {})
    errors.update(problems)
    clean_lv, problems = clean_levels(levels)
    errors.update(problems)
    clean_tt, problems = clean_templates(task_templates)
    errors.update(problems)
    return definition, clean_lv, clean_tt, errors


@transaction.atomic
def item_create(
    *, actor, data: Mapping[str, Any], form_fields: Any = None, levels: Any = None, task_templates: Any = None
) -> CatalogItem:
    """Add a catalog item (``service_catalog.manage``) with its form, approval levels (none: no
    approval needed) and task templates; every fault at once, nothing written on error."""
    if not policy.can(actor, "create", CatalogItem):
        raise NotAllowed("You may not add catalog items.")
    data = dict(data)
    data.pop("form_fields", None)
    definition, clean_lv, clean_tt, errors = _item_input(form_fields or [], levels, task_templates)
    try:
        services.check_fields(actor, CatalogItem, data)
    except InvalidInput as error:
        errors.update(error.fields)
    if errors:
        raise InvalidInput("The catalog item cannot be saved as asked.", fields=errors)
    item = services.record_create(model=CatalogItem, actor=actor, data={**data, "form_fields": definition})
    if clean_lv:
        _replace_levels(item, actor, clean_lv)
    if clean_tt:
        _replace_templates(item, actor, clean_tt)
    return item


@transaction.atomic
def item_update(
    *, item: CatalogItem, actor, data: Mapping[str, Any] | None = None, form_fields: Any = None,
    levels: Any = None, task_templates: Any = None, expected_version: int | None = None,
) -> CatalogItem:  # fmt: skip
    """Edit an item (``service_catalog.manage``): its fields, and — when given — its whole form,
    its approval levels or its task templates (each replaced as a whole). Requests already
    raised keep the form they answered. With ``expected_version`` a concurrent edit is refused
    (409)."""
    data = dict(data or {})
    if "form_fields" in data:
        form_fields = data.pop("form_fields")
    definition, clean_lv, clean_tt, errors = _item_input(form_fields, levels, task_templates)
    locked = services.lock(item)
    if not policy.is_readable(actor, locked):
        raise NotFound()
    if not policy.can(actor, "update", locked):
        raise NotAllowed("You may not change catalog items.")
    try:
        services.check_fields(actor, locked, data)
    except InvalidInput as error:
        errors.update(error.fields)
    if errors:
        raise InvalidInput("The catalog item cannot be saved as asked.", fields=errors)
    if definition is not None:
        data["form_fields"] = definition
    item = services.record_update(obj=locked, actor=actor, data=data, expected_version=expected_version)
    moved = False
    if levels is not None:
        moved |= _replace_levels(item, actor, clean_lv)
    if task_templates is not None:
        moved |= _replace_templates(item, actor, clean_tt)
    if moved:
        services.apply_changes(item, actor, {}, extra_fields=["updated_at"], journal=False)
        item.refresh_from_db()
    return item


@transaction.atomic
def item_deactivate(*, item: CatalogItem, actor) -> CatalogItem:
    """Withdraw an item from the catalog: it leaves Browse; its requests stay as they are."""
    return services.record_update(obj=item, actor=actor, data={"active": False})


@transaction.atomic
def item_activate(*, item: CatalogItem, actor) -> CatalogItem:
    return services.record_update(obj=item, actor=actor, data={"active": True})


# --- Bulk -------------------------------------------------------------------------------------


def _work_note(*, request: Request, actor, body: str) -> RequestNote:
    return request_note_add(request=request, actor=actor, kind=RequestNote.Kind.WORK_NOTE, body=body)


# The request queue's bulk action (``itsm.bulk_actions``): assign; a comment is a work note on each.
BULK = BulkActions(
    model=Request,
    record="request",
    noun="request",
    note=_work_note,
    actions=[BulkAction("assign", "Assign", request_assign, needs=frozenset({SOMEONE}), passes=ASSIGNEES)],
)
