"""Reads that join several things: the timeline, time roll-ups and reports, CSAT summaries, who
is told of an incident."""

from __future__ import annotations

from datetime import date

from django.db.models import Avg, Count, Prefetch, Q, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek

from incidents.models import CsatResponse, Incident, IncidentNote, TimeEntry
from itsm import policy
from itsm.timeline import entries_for as timeline_entries
from notifications.services import Message, group_members


def notes_for(user, incident: Incident, kind: str):
    """Comments for every reader; work notes only for those who may read the work journal."""
    if kind == IncidentNote.Kind.WORK_NOTE and "work_journal" in policy.hidden_fields(user, Incident):
        return IncidentNote.objects.none()
    return incident.notes.filter(kind=kind).select_related("author")


def customer_messages(incident: Incident, kind: str, *, besides=None, **extra) -> list[Message]:
    """Messages of ``kind`` about ``incident`` for the people it is for: its requester and
    requested-for person, once each, only if active with an e-mail address, never ``besides``
    (who wrote what they are told of). Each greets its recipient by name."""
    people: list = []
    for person in (incident.requester, incident.requested_for):
        if person is None or not person.email or not person.is_active:
            continue
        if any(p.pk == person.pk for p in people) or (besides is not None and person.pk == besides.pk):
            continue
        people.append(person)
    return [Message(person, kind, incident, {**extra, "recipient_name": _name(person)}) for person in people]


def desk_messages(incident: Incident, kind: str, *, besides=None, **extra) -> list[Message]:
    """Messages of ``kind`` for whoever works the incident: its assignee, else the members of its
    assignment group (nobody when it has neither), never ``besides``."""
    if incident.assignee_id is not None:
        people = [incident.assignee]
    elif incident.assignment_group_id is not None:
        people = group_members(incident.assignment_group_id)
    else:
        people = []
    return [
        Message(person, kind, incident, dict(extra))
        for person in people
        if besides is None or person.pk != besides.pk
    ]


def _name(person) -> str:
    return person.get_full_name() or person.get_username()


def timeline(user, incident: Incident) -> list[dict]:
    """Everything that happened, oldest first, each item only if the reader may see it:
    comments, work notes (agents), transitions and field changes (not of hidden fields); who
    acted is named as ``policy.person_name`` names it to the reader. Journal items carry the
    labels the page shows (``itsm.timeline``) beside the stored values the API returns."""
    items = []
    hidden = policy.hidden_fields(user, Incident)
    for note in incident.notes.select_related("author"):
        if note.kind == IncidentNote.Kind.WORK_NOTE and "work_journal" in hidden:
            continue
        items.append({
            "at": note.created_at, "type": note.kind, "actor": policy.person_name(user, note.author, incident),
            "text": note.body, "field": "", "old_value": "", "new_value": "",
        })  # fmt: skip
    for entry in timeline_entries(user, incident):
        items.append({
            "at": entry.at, "type": entry.action, "actor": entry.actor_label,
            "text": entry.transition, "field": entry.field, "old_value": entry.old_value,
            "new_value": entry.new_value, "text_label": entry.transition_label,
            "field_label": entry.field_label, "old_label": entry.old_label, "new_label": entry.new_label,
        })  # fmt: skip
    items.sort(key=lambda item: item["at"])
    return items


def time_totals(incident: Incident) -> dict:
    totals = incident.time_entries.aggregate(
        total_minutes=Sum("minutes"),
        billable_minutes=Sum("minutes", filter=Q(billable=True)),
        non_billable_minutes=Sum("minutes", filter=Q(billable=False)),
        entry_count=Count("id"),
    )
    return {
        "total": totals["total_minutes"] or 0,
        "billable": totals["billable_minutes"] or 0,
        "non_billable": totals["non_billable_minutes"] or 0,
        "entries": totals["entry_count"],
    }


PERIODS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def time_report(user, *, start: date, end: date, period: str = "month", group_by: str = "user") -> list[dict]:
    """Minutes logged between two dates, by period and by user or organisation, over the
    incidents the user may read."""
    readable = policy.readable(user, Incident).values("pk")
    key = {"user": "author__username", "organisation": "incident__organisation__name"}[group_by]
    rows = (
        TimeEntry.objects.filter(incident__in=readable, date__gte=start, date__lte=end)
        .annotate(period=PERIODS[period]("date"))
        .values("period", key)
        .annotate(
            total_minutes=Sum("minutes"),
            billable_minutes=Sum("minutes", filter=Q(billable=True)),
            non_billable_minutes=Sum("minutes", filter=Q(billable=False)),
        )
        .order_by("period", key)
    )
    return [
        {"period": r["period"], group_by: r[key] or "—", "minutes": r["total_minutes"],
         "billable": r["billable_minutes"] or 0, "non_billable": r["non_billable_minutes"] or 0}
        for r in rows
    ]  # fmt: skip


def csat_summary(queryset) -> dict:
    """Average, count and a 1–5 breakdown of CSAT responses."""
    stats = queryset.aggregate(
        average=Avg("rating"),
        count=Count("id"),
        **{f"r{i}": Count("id", filter=Q(rating=i)) for i in range(1, 6)},
    )
    return {
        "average": round(stats["average"], 2) if stats["average"] is not None else None,
        "count": stats["count"],
        "breakdown": {str(i): stats[f"r{i}"] for i in range(1, 6)},
    }


def csat_report(user, *, start: date, end: date, period: str = "month") -> list[dict]:
    readable = policy.readable(user, Incident).values("pk")
    rows = (
        CsatResponse.objects.filter(
            incident__in=readable, updated_at__date__gte=start, updated_at__date__lte=end
        )
        .annotate(period=PERIODS[period]("updated_at"))
        .values("period", "incident__organisation__name")
        .annotate(average=Avg("rating"), count=Count("id"))
        .order_by("period", "incident__organisation__name")
    )
    return [
        {"period": r["period"], "organisation": r["incident__organisation__name"] or "—",
         "average": round(r["average"], 2), "count": r["count"]}
        for r in rows
    ]  # fmt: skip


def _reads_workarounds(user) -> bool:
    model = Incident._meta.get_field("related_problems").related_model
    return policy.can(user, "read", model) and "workaround" in policy.readable_fields(user, model)


def problem_workarounds(user, incident) -> list:
    """The workarounds of the problems linked to the incident, as far as the problems' own
    policy lets ``user`` read them (from the prefetched ``related_problems``). Incidents know
    problems only through that relation: no problems module is imported."""
    if not _reads_workarounds(user):
        return []
    return [p for p in incident.related_problems.all() if p.workaround and policy.is_readable(user, p)]


def related_problems_prefetch(user) -> Prefetch:
    """The prefetch of ``related_problems`` for a body that shows them by id and their
    workarounds (the API's): the problems' keys and, when ``user`` may read workarounds, the
    columns ``problem_workarounds`` reads (number, workaround, what the problems' read rules
    look at) — not whole problem rows."""
    model = Incident._meta.get_field("related_problems").related_model
    columns = ("pk",)
    if _reads_workarounds(user):
        columns = ("number", "workaround", *policy.read_rule_fields(model))
    return Prefetch("related_problems", queryset=model._default_manager.only(*columns))
