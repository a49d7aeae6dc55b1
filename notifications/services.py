"""Telling people: an in-app notification for agents, and an e-mail through Django's e-mail
backend (console by default, SMTP from settings), both rendered from templates.

Each message is rendered from a context holding only the fields of the work the recipient may
read (``work_values``), so a field hidden from a customer can never reach what it receives,
whatever a template asks for. E-mails are sent after the transaction commits, so nothing is
sent for a change that rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from itsm import policy
from notifications.models import Kind, Notification

logger = logging.getLogger(__name__)

TEMPLATES = "notifications/email"

# What each kind of message is about. A recipient who may not read one of these fields of the
# work is not sent the message at all: "breached its SLA" or "escalated to level 2" would tell
# a customer what SPEC §4 hides from it, whatever the template's wording.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.SLA_WARNING: ("sla_status", "sla_due_at"),
    Kind.SLA_BREACHED: ("sla_status", "escalation_level"),
    Kind.ESCALATED: ("escalation_level",),
    Kind.STAGE: ("escalation_stage", "escalation_policy"),
}
# Extra context a message carries, and the work field each one reveals.
EXTRA_FIELDS: dict[str, str] = {
    "due_at": "sla_due_at",
    "breached_at": "sla_status",
    "target": "sla_status",
    "calendar": "sla_definition",
    "stage": "escalation_stage",
    "policy": "escalation_policy",
    "timeout_minutes": "escalation_next_at",
    "requires_acknowledgment": "escalation_stage",
    "has_next": "escalation_stage",
}


@dataclass
class Message:
    recipient: Any
    kind: str
    work: Any
    extra: dict[str, Any] = field(default_factory=dict)


def work_values(recipient, work) -> dict[str, Any] | None:
    """The work as ``recipient`` may read it: readable fields (plus ``<name>_label`` for fields
    with choices); None if it may not read it. A related record (assignee, group…) is included
    only when the caller loaded it already (``select_related``): a sweep telling thousands of
    people must not cost a query per field per message."""
    if work is None:
        return {}
    if not policy.is_readable(recipient, work):
        return None
    values: dict[str, Any] = {}
    for name in sorted(policy.readable_fields(recipient, work)):
        model_field = work._meta.get_field(name)
        if model_field.many_to_many or model_field.one_to_many:
            continue  # no message lists related records; they would cost a query each
        if model_field.is_relation and not model_field.is_cached(work):
            values[model_field.attname] = getattr(work, model_field.attname)
            continue
        values[name] = getattr(work, name)
        if model_field.choices:
            values[f"{name}_label"] = getattr(work, f"get_{name}_display")()
    return values


def _url(recipient, work) -> str:
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    if work is None:
        return base + "/desk/notifications/"
    agent = policy.has_permission(recipient, "desk.access")
    try:
        path = reverse("desk:incident-detail" if agent else "portal:incident-detail", args=[work.pk])
    except NoReverseMatch:
        path = f"/{'desk' if agent else 'portal'}/incidents/{work.pk}/"
    return base + path


def send(messages: Iterable[Message]) -> int:
    """Store the in-app notifications (agents) and queue the e-mails (anyone with an address).
    One person is told once per kind and work, however many reasons name it."""
    rows, mails, seen = [], [], set()
    texts: dict[tuple, tuple[str, str]] = {}
    people: dict[int, Any] = {}  # one object per person: its roles are read once (cached on it)
    for message in messages:
        person = message.recipient
        if person is None or not person.is_active:
            continue
        person = people.setdefault(person.pk, person)
        key = (person.pk, message.kind, getattr(message.work, "pk", None))
        if key in seen:
            continue
        seen.add(key)
        if message.work is not None and not policy.is_readable(person, message.work):
            continue
        readable = policy.readable_fields(person, message.work) if message.work is not None else frozenset()
        if message.work is not None and any(
            name not in readable for name in KIND_FIELDS.get(message.kind, ())
        ):
            continue  # the message is about fields this recipient may not read
        url = _url(person, message.work)
        # Everyone who reads the same fields of the same work gets the same text: rendered once
        # (a stage calling on a whole group, a breach told to the assignee and the leads).
        text_key = (
            message.kind,
            getattr(message.work, "pk", None),
            readable,
            url,
            repr(sorted(message.extra.items())),
        )
        if text_key not in texts:
            context = {
                **_readable_extra(message.extra, readable, message.work),
                "work": work_values(person, message.work),
                "url": url,
            }
            subject = " ".join(render_to_string(f"{TEMPLATES}/{message.kind}_subject.txt", context).split())
            texts[text_key] = (subject, render_to_string(f"{TEMPLATES}/{message.kind}.txt", context))
        subject, body = texts[text_key]
        if policy.has_permission(person, "desk.access"):
            rows.append(
                Notification(
                    recipient=person, kind=message.kind, work=message.work, subject=subject[:255], body=body
                )
            )
        if person.email:
            mails.append(EmailMessage(subject, body, None, [person.email]))
    Notification.objects.bulk_create(rows, batch_size=500)
    if mails:
        transaction.on_commit(lambda: _deliver(mails))
    return len(seen)


def _readable_extra(extra: dict[str, Any], readable, work) -> dict[str, Any]:
    """The message's extra context without anything naming a field of the work the recipient
    may not read (an extra named after a field, or one known to reveal one)."""
    if work is None:
        return dict(extra)
    fields = {f.name for f in work._meta.get_fields()}
    kept = {}
    for key, value in extra.items():
        field = EXTRA_FIELDS.get(key, key)
        if field in fields and field not in readable:
            continue
        kept[key] = value
    return kept


def _deliver(mails: list[EmailMessage]) -> None:
    try:
        get_connection().send_messages(mails)
    except OSError:
        # The change is committed; a mail server that is down must not turn it into an error.
        logger.exception("Could not send %d notification e-mails", len(mails))


def mark_read(*, actor, notifications=None, at=None) -> int:
    """Mark ``actor``'s own unread notifications read (those of ``notifications``, or all), in
    one UPDATE; answers how many were unread. The policy decides: a person reads, and may set
    ``read_at`` of, only its own. Not journaled: it changes nothing of the work."""
    from django.utils import timezone

    from itsm.errors import NotAllowed

    if not policy.can(actor, "update", Notification):
        raise NotAllowed("You may only mark your own notifications read.")
    mine = policy.readable(actor, Notification, notifications)
    return mine.filter(read_at__isnull=True).update(read_at=at or timezone.now())


def unread_count(user) -> int:
    """One query, on the partial index of unread rows."""
    return policy.readable(user, Notification).filter(read_at__isnull=True).count()


def group_leads(group_ids: Iterable[int]) -> dict[int, list]:
    """The leads of each group (one query)."""
    from itsm.models import GroupMembership

    leads: dict[int, list] = {}
    rows = GroupMembership.objects.filter(group_id__in=set(group_ids), role=GroupMembership.Role.LEAD)
    for membership in rows.select_related("user"):
        leads.setdefault(membership.group_id, []).append(membership.user)
    return leads


def group_members(group_id: int) -> list:
    from itsm.models import GroupMembership

    return [m.user for m in GroupMembership.objects.filter(group_id=group_id).select_related("user")]
