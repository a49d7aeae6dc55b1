"""E-mails to the people an incident is for: its requester and requested-for person.

Workflows and services queue these with ``transaction.on_commit``, so nothing is sent for a
change that rolled back. Each recipient's message is rendered from a context holding only the
incident fields the policy lets that recipient read, so a hidden field (priority, assignee,
assignment group, resolution notes, work notes…) cannot reach an e-mail, whatever a template
asks for.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse

from incidents.models import Incident, IncidentNote
from incidents.selectors import notes_for
from itsm import policy

logger = logging.getLogger(__name__)

TEMPLATES = "incidents/email"


def recipients(incident: Incident) -> list:
    """The requester and the requested-for person: once each, and only with an e-mail address."""
    people = []
    for person in (incident.requester, incident.requested_for):
        if person is None or not person.email or not person.is_active:
            continue
        if any(p.pk == person.pk for p in people):
            continue
        people.append(person)
    return people


def incident_context(recipient, incident: Incident) -> dict[str, Any] | None:
    """The incident as ``recipient`` may read it: its readable fields (with a ``<name>_label``
    for fields with choices), and nothing else. None if it may not read the incident."""
    fields = policy.readable_fields(recipient, incident)
    if not fields:
        return None
    values: dict[str, Any] = {}
    for name in sorted(fields):
        field = Incident._meta.get_field(name)
        if field.many_to_many:
            continue  # no e-mail lists related records; they would cost a query each
        values[name] = getattr(incident, name)
        if field.choices:
            values[f"{name}_label"] = getattr(incident, f"get_{name}_display")()
    return values


def portal_url(incident: Incident) -> str:
    try:
        path = reverse("portal:incident-detail", args=[incident.pk])
    except NoReverseMatch:
        path = f"/portal/incidents/{incident.pk}/"
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


def _send(template: str, recipient, context: dict[str, Any]) -> None:
    subject = " ".join(render_to_string(f"{TEMPLATES}/{template}_subject.txt", context).split())
    body = render_to_string(f"{TEMPLATES}/{template}.txt", context)
    try:
        send_mail(subject, body, None, [recipient.email])
    except OSError:
        # The change is committed; a mail server that is down must not turn it into an error.
        logger.exception("Could not send %s to %s", template, recipient.email)


def _load(incident_pk: int) -> Incident | None:
    return (
        Incident.objects.select_related("requester", "requested_for", "organisation")
        .filter(pk=incident_pk)
        .first()
    )


def incident_resolved(incident_pk: int) -> None:
    """Tell the requester and requested-for person that their incident is resolved."""
    incident = _load(incident_pk)
    if incident is None:
        return
    for recipient in recipients(incident):
        values = incident_context(recipient, incident)
        if values is None:
            continue
        _send(
            "incident_resolved",
            recipient,
            {"incident": values, "recipient_name": _name(recipient), "portal_url": portal_url(incident)},
        )


def agent_commented(note_pk: int) -> None:
    """Send a service-desk agent's comment (never a work note) to the requester and
    requested-for person; the author is never sent its own comment."""
    note = IncidentNote.objects.select_related("author").filter(pk=note_pk).first()
    if note is None or note.kind != IncidentNote.Kind.COMMENT or note.author is None:
        return
    if not policy.has_permission(note.author, "incidents.manage"):
        return  # a customer's comment is for the desk, which reads it in its queue
    incident = _load(note.incident_id)
    if incident is None:
        return
    for recipient in recipients(incident):
        if recipient.pk == note.author_id:
            continue
        values = incident_context(recipient, incident)
        if values is None or not notes_for(recipient, incident, note.kind).filter(pk=note.pk).exists():
            continue
        _send(
            "agent_commented",
            recipient,
            {
                "incident": values,
                "comment": note.body,
                "recipient_name": _name(recipient),
                "portal_url": portal_url(incident),
            },
        )


def _name(user) -> str:
    return user.get_full_name() or user.get_username()
