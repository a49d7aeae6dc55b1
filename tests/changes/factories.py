"""Changes for tests, made as the product makes them: through ``changes.services`` and
``changes.workflows``, so each has its number, its risk and its journal. Templates, windows and
freezes are configuration rows, created directly."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from changes import services, workflows
from changes.models import Change, ChangeFreeze, GovernanceTemplate, MaintenanceWindow
from itsm.models import Host, HostGroup, HostGroupDependency

PLANS = {
    "implementation_plan": "Apply the patch to each host in turn.",
    "backout_plan": "Reinstall the previous package version.",
    "test_plan": "Check the service answers on each host.",
}


def window(days: float = 7, hours: float = 2) -> dict:
    """A planned window ``days`` from now (well past the 48 hours' notice), ``hours`` long."""
    start = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    return {"planned_start": start, "planned_end": start + timedelta(hours=hours)}


def make_template(name: str = "Server patching", **fields) -> GovernanceTemplate:
    fields = {"required_gates": ["Peer review", "Test evidence"], "optional_gates": ["Security sign-off"], **fields}
    template = GovernanceTemplate(name=name, **fields)
    template.full_clean()
    template.save()
    return template


def make_change(*, by, short_description: str = "Patch the web servers", change_type: str = "normal", **data) -> Change:
    """Raised by ``by`` (an agent) through ``change_create``, writing ``data``."""
    return services.change_create(
        actor=by, data={"short_description": short_description, "change_type": change_type, **data}
    )


def submitted_change(*, by, **data) -> Change:
    """A normal change with a window and plans, submitted to the CAB by ``by``."""
    change = make_change(by=by, **{**window(), **PLANS, **data})
    return workflows.change_submit(change=change, actor=by)


def approved_change(*, by, approver, **data) -> Change:
    change = submitted_change(by=by, **data)
    template = change.governance_template
    for gate in template.required_gates if template else ():
        change = services.change_complete_gate(change=change, actor=by, gate=gate, notes="Done.")
    return workflows.change_approve(change=change, actor=approver)


def rejected_change(*, by, approver, cab_notes: str = "Too risky in this window.", **data) -> Change:
    change = submitted_change(by=by, **data)
    return workflows.change_reject(change=change, actor=approver, cab_notes=cab_notes)


def in_progress_change(*, by, approver, **data) -> Change:
    return workflows.change_start(change=approved_change(by=by, approver=approver, **data), actor=by)


def make_group(name: str, *, tier: str = "medium", hosts: int = 0) -> HostGroup:
    group = HostGroup.objects.create(name=name, service_tier=tier)
    Host.objects.bulk_create([Host(hostname=f"{name.lower()}-{n:03d}", host_group=group) for n in range(hosts)])
    return group


def make_hosts(count: int, *, prefix: str = "host", group: HostGroup | None = None) -> list[Host]:
    return Host.objects.bulk_create([Host(hostname=f"{prefix}-{n:04d}", host_group=group) for n in range(count)])


def depends(dependent: HostGroup, depends_on: HostGroup) -> HostGroupDependency:
    """``dependent`` needs ``depends_on``."""
    return HostGroupDependency.objects.create(dependent=dependent, depends_on=depends_on)


def make_window(name: str = "Sunday night", *, start, end, by=None, host_groups=()) -> MaintenanceWindow:
    row = MaintenanceWindow.objects.create(name=name, start=start, end=end, created_by=by)
    row.host_groups.set(host_groups)
    return row


def make_freeze(name: str = "Year end", *, start, end, by=None, reason: str = "Trading peak") -> ChangeFreeze:
    return ChangeFreeze.objects.create(name=name, start=start, end=end, created_by=by, reason=reason)
