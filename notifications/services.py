"""Telling people: an in-app notification for agents, and an e-mail through Django's e-mail
backend (console by default, SMTP from settings), both rendered from templates.

Each message is rendered from a context holding only the fields of the work the recipient may
read (``work_values``), so a field hidden from a customer can never reach what it receives,
whatever a template asks for. In-app notifications are written in the same transaction as the
change they tell of. E-mails are handed to background tasks (django-q2, ``deliver``, in chunks
of ``MAIL_CHUNK``) after the transaction commits: nothing is sent for a change that rolled back,
and a sweep telling thousands of people does not wait for the mail server.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django_q.tasks import async_task, schedule

from itsm import policy
from itsm.bulk import Copier
from itsm.errors import NotAllowed
from itsm.models import GroupMembership
from itsm.roles import load_roles
from itsm.workflow import lifecycle_of
from notifications.models import Kind, Notification

logger = logging.getLogger(__name__)

TEMPLATES = "notifications/email"
# In-app rows are COPY'd: a sweep may write tens of thousands at once.
_ROWS = Copier(Notification, ["recipient_id", "kind", "work_id", "subject", "body", "items", "created_at"])
# More messages than this of one kind for one person at once: one digest listing them.
DIGEST_AT = 5
MAIL_CHUNK = 200
MAIL_ATTEMPTS = 3  # a chunk the mail server would not take is tried again twice
MAIL_RETRY_MINUTES = 5  # e-mails per delivery task: one SMTP connection each, several tasks in parallel

# What each kind of message is about. A recipient who may not read one of these fields of the
# work is not sent the message at all: "breached its SLA" or "escalated to level 2" would tell
# a customer what SPEC §4 hides from it, whatever the template's wording. A field the work's
# model lacks counts as unreadable (fail closed): a message about an escalation of a record that
# has no escalation columns reaches nobody it could mislead — unless the field is listed in
# ``KIND_FIELDS_IF_PRESENT`` (a request's SLA breach is about its SLA status; it has no level).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    Kind.SLA_WARNING: ("sla_status", "sla_due_at"),
    Kind.SLA_BREACHED: ("sla_status",),
    Kind.ESCALATED: ("escalation_level",),
    Kind.STAGE: ("escalation_stage", "escalation_policy"),
    Kind.RESOLVED: ("state", "resolution_code"),
    Kind.COMMENTED: ("state",),
    Kind.PROBLEM_ASSIGNED: ("assignee", "assignment_group"),
    Kind.RCA_SUBMITTED: ("rca_summary",),
    Kind.RCA_APPROVED: ("rca_summary", "review_notes"),
    Kind.RCA_REJECTED: ("rca_summary", "review_notes"),
    Kind.CHANGE_SUBMITTED: ("change_type", "planned_start"),
    Kind.CHANGE_APPROVED: ("cab_decision", "cab_notes"),
    Kind.CHANGE_REJECTED: ("cab_decision", "cab_notes"),
    Kind.CHANGE_SENT_BACK: ("cab_decision",),
    Kind.EMERGENCY_CHANGE: ("change_type", "pir_due_at"),
    Kind.PIR_OVERDUE: ("pir_due_at",),
    Kind.REQUEST_APPROVAL: ("state",),
    Kind.REQUEST_APPROVED: ("state",),
    Kind.REQUEST_REJECTED: ("state",),
    Kind.REQUEST_READY: ("state", "assignment_group"),
    Kind.REQUEST_TASKS: ("state", "assignment_group"),
    Kind.REQUEST_COMPLETED: ("state",),
    Kind.RECEIVED: ("number", "short_description"),
    Kind.CUSTOMER_COMMENTED: ("state",),
    Kind.CUSTOMER_REPLIED: ("state", "customer_replied_at"),
}
KIND_FIELDS_IF_PRESENT: dict[str, tuple[str, ...]] = {
    Kind.SLA_BREACHED: ("escalation_level",),
}
# Extra context a message carries, and the work field each one reveals (an extra named after a
# field reveals that field); an extra about a field the work's model lacks is dropped.
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
    "by": "escalation_level",
    "reason": "escalation_level",
}


@dataclass
class Message:
    recipient: Any
    kind: str
    work: Any
    extra: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=512)
def _plan(model, readable: frozenset) -> tuple:
    """Which fields ``work_values`` copies for a reader of ``readable``, and their choice labels
    (worked out once per model and set of readable fields, not per message)."""
    plan = []
    for name in sorted(readable):
        model_field = model._meta.get_field(name)
        if model_field.many_to_many or model_field.one_to_many:
            continue  # no message lists related records; they would cost a query each
        labels = dict(model_field.flatchoices) if model_field.choices else None
        plan.append((name, model_field, labels))
    return tuple(plan)


def work_values(recipient, work, readable: frozenset | None = None) -> dict[str, Any] | None:
    """The work as ``recipient`` may read it: readable fields (plus ``<name>_label`` for fields
    with choices); None if it may not read it. A related record (assignee, group…) is included
    only when the caller loaded it already (``select_related``): a sweep telling thousands of
    people must not cost a query per field per message. ``readable``: the recipient's readable
    fields of the work when the caller has just asked the policy (``send``), not asked again."""
    if work is None:
        return {}
    if readable is None:
        readable = policy.readable_fields(recipient, work)
    if not readable:
        return None
    values: dict[str, Any] = {}
    for name, model_field, labels in _plan(type(work), frozenset(readable)):
        if model_field.is_relation and not model_field.is_cached(work):
            values[model_field.attname] = getattr(work, model_field.attname)
            continue
        value = values[name] = getattr(work, name)
        if labels is not None:
            values[f"{name}_label"] = force_str(labels.get(value, value), strings_only=True)
    return values


_PK = 918273645  # stands for the record's id in a reversed path


def page_link(kind: str, pk, *, desk: bool, paths: dict[tuple[str, bool], str]) -> str:
    """The path of record ``pk``'s page in the desk or the portal, as its kind's lifecycle
    names them (``desk_page``, ``portal_page``); "" for a kind without one. ``paths`` remembers
    the reversed path per kind and door: reversing a URL per message was a third of a big
    sweep's time."""
    key = (kind, desk)
    if key not in paths:
        lifecycle = lifecycle_of(kind)
        page = (lifecycle.desk_page if desk else lifecycle.portal_page) if lifecycle else ""
        try:
            paths[key] = reverse(page, args=[_PK]) if page else ""
        except NoReverseMatch:
            paths[key] = ""
    return paths[key].replace(str(_PK), str(pk))


def _url(recipient, work, paths: dict[tuple[str, bool], str]) -> str:
    """The work's page in the desk (agents) or the portal. Without one for its kind: agents get
    their notification list, anyone else no link."""
    base = getattr(settings, "SITE_URL", "").rstrip("/")
    notifications = base + "/desk/notifications/"
    if work is None:
        return notifications
    agent = policy.has_permission(recipient, "desk.access")
    path = page_link(work.kind, work.pk, desk=agent, paths=paths)
    if not path:
        return notifications if agent else ""
    return base + path


def send(messages: Iterable[Message], *, people: dict[int, Any] | None = None) -> int:
    """Store the in-app notifications (agents) and queue the e-mails (anyone with an address).
    One person is told once per kind and work, however many reasons name it; a person who
    would get more than ``DIGEST_AT`` messages of one kind from one change or sweep batch gets
    one digest listing them instead (a storm of breaches must not bury the desk in mail).

    ``people`` keeps one object per person, so its roles are read once (they are cached on
    it); a sweep passes the same dict for all its batches."""
    seen: set[tuple] = set()
    pending: dict[tuple[int, str], list[tuple[Message, frozenset, str]]] = {}
    people = {} if people is None else people
    paths: dict[tuple[str, bool], str] = {}
    for message in messages:
        person = message.recipient
        if person is None or not person.is_active:
            continue
        person = people.setdefault(person.pk, person)
        key = (person.pk, message.kind, getattr(message.work, "pk", None))
        if key in seen:
            continue
        seen.add(key)
        # Nothing readable: the work is not the person's to read (one policy question, not two).
        readable = policy.readable_fields(person, message.work) if message.work is not None else frozenset()
        if message.work is not None and not readable:
            continue
        if message.work is not None and not _may_hear(message, readable):
            continue  # the message is about fields this recipient may not read
        url = _url(person, message.work, paths)
        pending.setdefault((person.pk, message.kind), []).append((message, readable, url))
    rows, mails = [], []
    texts = _Texts()
    now = timezone.now()
    for (pk, kind), items in pending.items():
        person = people[pk]
        if len(items) > DIGEST_AT:
            listed = [
                {
                    "work": getattr(message.work, "pk", None),
                    "kind": getattr(message.work, "kind", ""),
                    "subject": texts.subject(person, message, readable, url),
                }
                for message, readable, url in items
            ]
            told = [(None, texts.digest(person, kind, items, paths), listed)]
        else:
            told = [
                (message.work, texts.one(person, message, readable, url), [])
                for message, readable, url in items
            ]
        for work, (subject, body), listed in told:
            if policy.has_permission(person, "desk.access"):
                rows.append((person.pk, kind, getattr(work, "pk", None), subject[:255], body, listed, now))
            if person.email:
                mails.append((subject, body, person.email))
    _ROWS.write(rows)
    if mails:
        transaction.on_commit(lambda: _queue(mails))
    return len(seen)


class _Texts:
    """Renders messages for one ``send``. Everyone who reads the same fields of the same work
    gets the same text, rendered once (a stage calling on a whole group, a breach told to the
    assignee and the leads); a digest is rendered once for everyone given the same list."""

    def __init__(self):
        self.subjects: dict[tuple, str] = {}
        self.bodies: dict[tuple, str] = {}
        self.contexts: dict[tuple, dict] = {}

    def _key(self, message: Message, readable, url) -> tuple:
        extra = repr(sorted(message.extra.items()))
        return (message.kind, getattr(message.work, "pk", None), readable, url, extra)

    def _context(self, key, person, message: Message, readable, url) -> dict:
        if key not in self.contexts:
            self.contexts[key] = {
                **_readable_extra(message.extra, readable, message.work),
                "work": work_values(person, message.work, readable),
                "url": url,
                "desk": policy.has_permission(person, "desk.access"),  # ``url`` is a desk page
            }
        return self.contexts[key]

    def subject(self, person, message: Message, readable, url) -> str:
        key = self._key(message, readable, url)
        if key not in self.subjects:
            context = self._context(key, person, message, readable, url)
            text = render_to_string(f"{TEMPLATES}/{message.kind}_subject.txt", context)
            self.subjects[key] = " ".join(text.split())
        return self.subjects[key]

    def one(self, person, message: Message, readable, url) -> tuple[str, str]:
        key = self._key(message, readable, url)
        if key not in self.bodies:
            context = self._context(key, person, message, readable, url)
            self.bodies[key] = render_to_string(f"{TEMPLATES}/{message.kind}.txt", context)
        return self.subject(person, message, readable, url), self.bodies[key]

    def digest(self, person, kind: str, items, paths) -> tuple[str, str]:
        lines = tuple((self.subject(person, m, readable, url), url) for m, readable, url in items)
        noun = _noun([m.work for m, _, _ in items])
        key = ("digest", kind, noun, lines)
        if key not in self.bodies:
            context = {
                "count": len(lines),
                "noun": noun,
                "kind_label": Kind(kind).label,
                "lines": lines,
                "url": _url(person, None, paths),
            }
            subject = " ".join(render_to_string(f"{TEMPLATES}/digest_subject.txt", context).split())
            self.subjects[key] = subject
            self.bodies[key] = render_to_string(f"{TEMPLATES}/digest.txt", context)
        return self.subjects[key], self.bodies[key]


def _noun(works) -> str:
    """What a digest lists: "incidents" when all are, else "records"."""
    models = {type(work) for work in works}
    if len(models) == 1 and all(work is not None for work in works):
        return str(next(iter(models))._meta.verbose_name_plural)
    return "records"


def _may_hear(message: Message, readable) -> bool:
    """Whether the recipient may read every field the message is about (a field the work lacks
    is unreadable, except those the kind names as present only on some records)."""
    if any(name not in readable for name in KIND_FIELDS.get(message.kind, ())):
        return False
    present = policy.model_field_names(message.work)
    return not any(
        name in present and name not in readable for name in KIND_FIELDS_IF_PRESENT.get(message.kind, ())
    )


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
        if key in EXTRA_FIELDS and field not in fields:
            continue  # about a field this kind of record does not have
        kept[key] = value
    return kept


def _queue(mails: list[tuple[str, str, str]]) -> None:
    """Hand the e-mails to delivery tasks, ``MAIL_CHUNK`` at a time (in the tests' and a
    single-process set-up's sync mode they are sent at once)."""
    for start in range(0, len(mails), MAIL_CHUNK):
        chunk = mails[start : start + MAIL_CHUNK]
        try:
            async_task("notifications.services.deliver", chunk, task_name="notifications.deliver")
        except Exception:  # the broker is down: deliver here rather than lose the messages
            logger.exception("Could not queue %d notification e-mails; sending them now", len(chunk))
            deliver(chunk)


def deliver(mails: list[tuple[str, str, str]], attempt: int = 1) -> int:
    """The background task: send (subject, body, address) e-mails over one connection; answers
    how many went. Those the mail server refused or could not take are tried again later
    (``MAIL_RETRY_MINUTES`` × the attempt, up to ``MAIL_ATTEMPTS`` in all), never the ones that
    went: nobody gets the same message twice because a neighbour's failed."""
    messages = [EmailMessage(subject, body, None, [address]) for subject, body, address in mails]
    failed: list[tuple[str, str, str]] = []
    sent = 0
    try:
        connection = get_connection()
        connection.open()
    except OSError:
        logger.exception("Could not reach the mail server for %d notification e-mails", len(mails))
        failed = list(mails)
    else:
        try:
            for mail, message in zip(mails, messages, strict=True):
                try:
                    sent += connection.send_messages([message]) or 0
                except OSError:  # the server refused it or went away: worth another try
                    logger.exception("Could not send a notification e-mail to %s", mail[2])
                    failed.append(mail)
                except Exception:  # a bad address or header: another try would fail the same way
                    logger.exception("Dropped a notification e-mail to %s that cannot be sent", mail[2])
        finally:
            with contextlib.suppress(OSError):
                connection.close()
    if failed:
        _retry(failed, attempt)
    return sent


def _retry(mails: list[tuple[str, str, str]], attempt: int) -> None:
    # The change is committed; a mail server that is down must not turn it into an error.
    if attempt >= MAIL_ATTEMPTS:
        logger.error("Gave up on %d notification e-mails after %d attempts", len(mails), attempt)
        return
    from django_q.models import Schedule

    delay = timedelta(minutes=MAIL_RETRY_MINUTES * attempt)
    schedule(
        "notifications.services.deliver", mails, attempt + 1,
        schedule_type=Schedule.ONCE, next_run=timezone.now() + delay,
    )  # fmt: skip
    logger.warning("%d notification e-mails will be tried again in %s", len(mails), delay)


def mark_read(*, actor, notifications=None, at=None) -> int:
    """Mark ``actor``'s own unread notifications read (those of ``notifications``, or all), in
    one UPDATE; answers how many were unread. The policy decides: a person reads, and may set
    ``read_at`` of, only its own. Not journaled: it changes nothing of the work."""
    if not policy.can(actor, "update", Notification):
        raise NotAllowed("You may only mark your own notifications read.")
    mine = policy.readable(actor, Notification, notifications)
    return mine.filter(read_at__isnull=True).update(read_at=at or timezone.now())


# Notifications that ask their reader to act on the work ("needs you"): withdrawn (marked read)
# once the work no longer needs that person (``withdraw_unneeded``).
NEEDS_YOU = frozenset({
    Kind.SLA_WARNING, Kind.SLA_BREACHED, Kind.ESCALATED, Kind.STAGE, Kind.PROBLEM_ASSIGNED,
    Kind.REQUEST_READY, Kind.REQUEST_TASKS, Kind.CUSTOMER_COMMENTED, Kind.CUSTOMER_REPLIED,
})  # fmt: skip


def withdraw(work_ids: Iterable[int], *, keep=None, only=None, at=None) -> int:
    """Mark read the unread "needs you" notifications about these works — everyone's but
    ``keep``'s, or only ``only``'s (user ids) — in one UPDATE on the work's index; answers how
    many."""
    ids = list(work_ids)
    if only is not None:
        return withdraw_many(only={only: ids}, at=at)
    if keep is not None:
        return withdraw_many(keep={keep: ids}, at=at)
    return withdraw_many(everyone=ids, at=at)


def withdraw_many(
    *,
    everyone: Collection[int] = (),
    keep: Mapping[int, Collection[int]] | None = None,
    only: Mapping[int, Collection[int]] | None = None,
    at=None,
) -> int:
    """``withdraw`` for many works at once, each with its own rule: about the works of
    ``everyone``, everyone's; about those of ``keep[user_id]``, everyone's but that person's;
    about those of ``only[user_id]``, that person's. One UPDATE on the work's index, whatever
    the number of works (none when there is nothing to withdraw); answers how many."""
    which = Q(work_id__in=list(everyone)) if everyone else None
    for person, ids in (keep or {}).items():
        which = _either(which, Q(work_id__in=list(ids)) & ~Q(recipient_id=person))
    for person, ids in (only or {}).items():
        which = _either(which, Q(work_id__in=list(ids), recipient_id=person))
    if which is None:
        return 0
    rows = Notification.objects.filter(which, read_at__isnull=True, kind__in=NEEDS_YOU)
    return rows.update(read_at=at or timezone.now())


def _either(which: Q | None, also: Q) -> Q:
    return also if which is None else which | also


def withdraw_unneeded(model: type, changes) -> None:
    """The rule, told of the changes services write (``itsm.services.watch``), a batch at a time:
    a work that is finished, or leaves a finished state (reopened), needs nobody it called on
    before; a work assigned to someone needs nobody else it called on; unassigned, not its
    former assignee. One UPDATE for the whole batch."""
    lifecycle = lifecycle_of(getattr(model, "KIND", ""))
    if lifecycle is None:
        return
    everyone: list[int] = []
    keep: dict[int, list[int]] = {}
    only: dict[int, list[int]] = {}
    for work, changed in changes:
        for name, old, new in changed:
            if name == "state" and (old in lifecycle.finished or new in lifecycle.finished):
                everyone.append(work.pk)
                break
            if name == "assignee" and old != new:
                if new is not None:
                    keep.setdefault(new.pk, []).append(work.pk)
                elif old is not None:
                    only.setdefault(old.pk, []).append(work.pk)
    withdraw_many(everyone=everyone, keep=keep, only=only)


UNREAD_SHOWN = 99  # the badge says "99+" past this


def unread_count(user) -> int:
    """How many unread notifications, counted up to ``UNREAD_SHOWN + 1`` (every desk page asks,
    and someone back from holiday may have thousands): one query on the partial index of
    unread rows that stops early."""
    unread = policy.readable(user, Notification).filter(read_at__isnull=True).order_by()
    return unread[: UNREAD_SHOWN + 1].count()


def group_leads(group_ids: Iterable[int]) -> dict[int, list]:
    """The leads of each group (one query)."""
    leads: dict[int, list] = {}
    rows = GroupMembership.objects.filter(group_id__in=set(group_ids), role=GroupMembership.Role.LEAD)
    for membership in rows.select_related("user"):
        leads.setdefault(membership.group_id, []).append(membership.user)
    load_roles(user for people in leads.values() for user in people)
    return leads


def group_members(group_id: int) -> list:
    """The group's members, their roles read with them (two queries, whatever the size)."""
    members = [m.user for m in GroupMembership.objects.filter(group_id=group_id).select_related("user")]
    load_roles(members)
    return members
