"""The incident page's SLA and escalation tab: each SLA clock with its due time and why, the
escalation policy and where the incident stands in it, and the Acknowledge and Escalate forms.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import Http404, HttpResponseNotAllowed
from django.utils import timezone

from escalation import services as escalation
from incidents.models import Incident
from incidents.views.desk.base import PAGE_RELATED, SLA_RELATED, IncidentTabView, duration, sla_label
from incidents.views.desk.overview import ACTIONS, action_form
from sla import explain
from sla.models import ClockEvent, ClockTarget


def business_time(seconds: int | None) -> str:
    """Business time as hours and minutes (a business "day" depends on the calendar)."""
    return duration(int((seconds or 0) // 60))


def local_time(value: datetime | None, zone: str) -> datetime | None:
    return None if value is None else timezone.localtime(value, ZoneInfo(zone))


def clock_view(clock) -> dict:
    """One clock as the SLA tab shows it: ``sla.explain`` plus labels and local times."""
    why = explain.explain(clock)
    zone = why["calendar"]["time_zone"]
    used = why["elapsed"] or 0
    target = why["target_duration"] or 0
    return {
        **why,
        "target_label": ClockTarget(why["target"]).label,
        "status_label": sla_label(why["status"]),
        "elapsed_text": business_time(used),
        "target_text": business_time(target),
        "remaining_text": business_time(why["remaining"]),
        "percent": min(round(100 * used / target), 100) if target else 0,
        "due_local": local_time(why["due_at"], zone),
        "zone": zone,
        "events": [
            {
                **event,
                "label": ClockEvent(event["kind"]).label,
                "elapsed_text": business_time(event["elapsed"]),
            }
            for event in why["events"]
        ],
    }


def stage_targets(stage) -> str:
    people = [user.get_full_name() or user.get_username() for user in stage.users.all()]
    parts = []
    if stage.assignment_group is not None:
        parts.append(f"group {stage.assignment_group}")
    if people:
        parts.append(", ".join(people))
    if stage.schedule is not None:
        parts.append(f"whoever is on call in {stage.schedule}")
    return "; ".join(parts) or "nobody named"


def escalation_view(incident: Incident) -> dict:
    """The incident's escalation policy, where it stands in it, and what happens next."""
    stages = escalation.stages_of(incident.escalation_policy)
    current = next((s for s in stages if s.order == incident.escalation_stage), None)
    following = next((s for s in stages if s.order > current.order), None) if current else None
    rows = [
        {
            "stage": stage,
            "number": n,
            "targets": stage_targets(stage),
            "timeout": duration(stage.timeout_minutes),
            "current": stage is current,
        }
        for n, stage in enumerate(stages, start=1)
    ]
    return {
        "policy": incident.escalation_policy,
        "stages": rows,
        "current": next((row for row in rows if row["current"]), None),
        "following": next((row for row in rows if row["stage"] is following), None),
        "level": incident.escalation_level,
        "started_at": incident.escalation_stage_started_at,
        "acknowledged_at": incident.escalation_acknowledged_at,
        "next_at": incident.escalation_next_at,
        "time_left": (
            duration(int(incident.escalation_time_left.total_seconds() // 60))
            if incident.escalation_time_left is not None
            else None
        ),
    }


class SlaView(IncidentTabView):
    """Each SLA clock with its due time and why (calendar, holidays, pauses, history), and the
    escalation policy with the Acknowledge and Escalate forms. Agents only (``view_sla``)."""

    tab = "sla"
    template_name = "incidents/desk/sla.html"
    panel_actions = ("acknowledge", "escalate")
    related = (*PAGE_RELATED, *SLA_RELATED)

    def tab_context(self, incident, forms):
        user = self.request.user
        clocks = [clock_view(clock) for clock in explain.clocks_for(incident, history=True)]
        allowed = {entry.name for entry in ACTIONS.available(user, incident)}
        actions = {
            name: forms.get(f"{name}_form") or action_form(name, user, incident)
            for name in self.panel_actions
            if name in allowed
        }
        show_escalation = "escalation_policy" not in self.hidden
        return {
            "clocks": [c for c in clocks if c["is_current"]],
            "retired_clocks": [c for c in clocks if not c["is_current"]],
            "definition": incident.sla_definition if "sla_definition" not in self.hidden else None,
            "escalation": escalation_view(incident) if show_escalation else None,
            "acknowledge_form": actions.get("acknowledge"),
            "escalate_form": actions.get("escalate"),
        }

    def get(self, request, pk, action=None):
        if action is not None:
            return HttpResponseNotAllowed(["POST"])
        return super().get(request, pk)

    def post(self, request, pk, action=None):
        if action not in self.panel_actions:
            raise Http404("No such action.")
        incident = self.load(pk)
        form = action_form(action, request.user, incident, request.POST)
        return self.write(
            incident,
            form,
            f"{action}_form",
            lambda data: ACTIONS[action].message(ACTIONS.run(action, incident, request.user, **data)),
            anchor="escalation",
        )
