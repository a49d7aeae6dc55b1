"""A ready demo (SPEC §7): one organisation, the seven demo users, and a few records of each kind;
business calendars, SLAs and an escalation policy, so the demo incidents have SLA clocks (some
near or past their targets) and an escalation stage.

Running it again changes nothing that is already there.
"""

from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from changes import risk
from changes.models import Change, ChangeFreeze, ChangeTask, GovernanceTemplate, MaintenanceWindow
from changes.workflows import TRANSITIONS
from config.management.demo_catalog import seed_catalog
from config.management.demo_knowledge import seed_knowledge
from escalation import services as escalation
from escalation.models import EscalationPolicy, EscalationStage
from incidents.models import Incident, IncidentTask
from itsm import access, audit, policy
from itsm.models import (
    AssignmentGroup,
    GroupMembership,
    Host,
    HostGroup,
    HostGroupDependency,
    Organisation,
    SlaDefinition,
    Work,
)
from itsm.numbering import next_number
from itsm.roles import Persona, Role
from problems.models import Problem, ProblemTask
from sla import clocks
from sla.models import BusinessCalendar, Holiday, WorkingPeriod

USERS = [
    # username, first name, last name, persona (None: superuser), in the customer organisation
    ("customer", "Casey", "Customer", Persona.EVERYONE, True),
    ("customer2", "Chris", "Colleague", Persona.EVERYONE, True),
    ("l1", "Lee", "Level-One", Persona.L1_AGENT, False),
    ("agent", "Alex", "Agent", Persona.L2_AGENT, False),
    ("lead", "Lou", "Lead", Persona.TEAM_LEADER, False),
    ("manager", "Morgan", "Manager", Persona.IT_SERVICE_MANAGER, False),
    ("admin", "Ada", "Admin", None, False),
]

# Targets in business minutes (an 8-hour working day is 480): (response, resolution) per priority.
STANDARD_TARGETS = {"P1": (15, 240), "P2": (30, 480), "P3": (120, 1440), "P4": (480, 2400)}
CRITICAL_TARGETS = {"P1": (15, 120), "P2": (30, 240), "P3": (60, 480), "P4": (240, 1440)}
UK_HOLIDAYS = [
    # name, date, every year
    ("New Year's Day", date(2026, 1, 1), True),
    ("Christmas Day", date(2026, 12, 25), True),
    ("Boxing Day", date(2026, 12, 26), True),
    ("Early May bank holiday", date(2026, 5, 4), False),
    ("Spring bank holiday", date(2026, 5, 25), False),
    ("Summer bank holiday", date(2026, 8, 31), False),
]


def _targets(targets: dict) -> dict:
    values = {}
    for priority, (response, resolution) in targets.items():
        values[f"{priority.lower()}_response_minutes"] = response
        values[f"{priority.lower()}_resolution_minutes"] = resolution
    return values


class Command(BaseCommand):
    help = "Create the demo organisation, the seven demo users and a few records of each kind."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo", help="Password for every demo user (default: demo)."
        )

    @transaction.atomic
    def handle(self, *args, password, **options):
        # SLAs before anything else: incidents get their SLA (and clocks) when they are made.
        office, always = self._calendars()
        sla, _ = SlaDefinition.objects.get_or_create(
            name="Standard",
            defaults={
                "description": "Business hours support (Mon–Fri 09:00–17:00 UK time).",
                "calendar": office,
                "is_default": not SlaDefinition.objects.filter(is_default=True).exists(),
                **_targets(STANDARD_TARGETS),
            },
        )
        critical, _ = SlaDefinition.objects.get_or_create(
            name="Critical services 24×7",
            defaults={
                "description": "Round-the-clock support for critical infrastructure.",
                "calendar": always,
                **_targets(CRITICAL_TARGETS),
            },
        )
        org, _ = Organisation.objects.get_or_create(name="Acme Corporation", defaults={"default_sla": sla})
        users = {}
        User = get_user_model()
        for username, first, last, persona, in_org in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                    "organisation": org if in_org else None,
                    "is_superuser": persona is None,
                    "is_staff": persona is None,
                },
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            if persona is not None:
                access.persona_grant(user=user, persona=persona)
            users[username] = user

        desk, _ = AssignmentGroup.objects.get_or_create(
            name="Service Desk", defaults={"email": "desk@example.com"}
        )
        network, _ = AssignmentGroup.objects.get_or_create(
            name="Network", defaults={"email": "network@example.com"}
        )
        for group, username, role in [
            (desk, "l1", GroupMembership.Role.MEMBER),
            (desk, "agent", GroupMembership.Role.MEMBER),
            (desk, "lead", GroupMembership.Role.LEAD),
            (network, "agent", GroupMembership.Role.MEMBER),
            (network, "lead", GroupMembership.Role.LEAD),
        ]:
            GroupMembership.objects.get_or_create(group=group, user=users[username], defaults={"role": role})

        core, _ = HostGroup.objects.get_or_create(
            name="Core network", defaults={"service_tier": "critical", "sla": critical, "organisation": org}
        )
        web, _ = HostGroup.objects.get_or_create(
            name="Web servers", defaults={"service_tier": "high", "sla": sla, "organisation": org}
        )
        office, _ = HostGroup.objects.get_or_create(
            name="Office devices", defaults={"service_tier": "low", "organisation": org}
        )
        HostGroupDependency.objects.get_or_create(dependent=web, depends_on=core)
        for hostname, group in [
            ("core-sw-01", core),
            ("core-rtr-01", core),
            ("web-01", web),
            ("web-02", web),
            ("printer-3f", office),
        ]:
            Host.objects.get_or_create(hostname=hostname, defaults={"host_group": group, "organisation": org})

        monitoring, created = User.objects.get_or_create(
            username="monitoring", defaults={"first_name": "Monitoring", "last_name": "service account"}
        )
        if created:
            monitoring.set_unusable_password()
            monitoring.save(update_fields=["password"])
        access.roles_grant(user=monitoring, roles=[Role.ITSM_AGENT])
        self.monitoring_token, _ = Token.objects.get_or_create(user=monitoring)

        self._escalation_policy(desk, users["lead"])

        if Work.objects.exists():
            self.stdout.write("Demo records already exist; left them as they are.")
        else:
            self._records(users, org, desk, network)
        if seed_catalog(users, desk):
            self.stdout.write("Service catalog: 2 categories, 4 items, 5 requests of customer in different states.")
        printer = Incident.objects.filter(short_description="Printer on floor 3 jams every page").first()
        if seed_knowledge(users, printer_incident=printer):
            self.stdout.write("Knowledge base: 12 published articles, one in review, one draft, feedback.")
        self._print_logins(password)

    def _calendars(self):
        office, created = BusinessCalendar.objects.get_or_create(
            name="Business hours",
            defaults={"description": "UK office hours, without bank holidays.", "time_zone": "Europe/London"},
        )
        if created:
            WorkingPeriod.objects.bulk_create(
                WorkingPeriod(calendar=office, weekday=day, start=time(9), end=time(17)) for day in range(5)
            )
            Holiday.objects.bulk_create(
                Holiday(calendar=office, name=name, date=day, recurring=recurring)
                for name, day, recurring in UK_HOLIDAYS
            )
        always, _ = BusinessCalendar.objects.get_or_create(
            name="24×7", defaults={"description": "Every hour of every day.", "always_open": True}
        )
        return office, always

    def _escalation_policy(self, desk, lead):
        """The account-wide default: the service desk, then its team leader."""
        if EscalationPolicy.objects.filter(name="Standard escalation").exists():
            return
        default_exists = EscalationPolicy.objects.filter(is_default=True, organisation__isnull=True).exists()
        policy = EscalationPolicy.objects.create(
            name="Standard escalation",
            description="The service desk first; its team leader if nobody has picked the incident up.",
            is_default=not default_exists,
        )
        EscalationStage.objects.create(policy=policy, order=1, timeout_minutes=30, assignment_group=desk)
        second = EscalationStage.objects.create(
            policy=policy, order=2, timeout_minutes=60, requires_acknowledgment=True
        )
        second.users.add(lead)

    def _sla(self, incident, *, opened_hours_ago: float, state_since_hours_ago: float = 0, note: str = ""):
        """Start the demo incident's clocks (as ``incident_create`` would) from a while ago, and
        move them as its state says; open incidents enter the escalation policy."""
        now = timezone.now()
        opened = now - timedelta(hours=opened_hours_ago)
        Work.objects.filter(pk=incident.pk).update(opened_at=opened)
        incident.opened_at = opened
        clocks.start(incident, at=opened)
        since = now - timedelta(hours=state_since_hours_ago)
        if incident.state == "in_progress":
            clocks.stop_response(incident, at=opened + timedelta(minutes=20), note="work started")
        elif incident.state == "on_hold":
            clocks.stop_response(incident, at=opened + timedelta(minutes=20), note="work started")
            clocks.pause(incident, at=since, note=note)
        elif incident.state == "resolved":
            Incident.objects.filter(pk=incident.pk).update(resolved_at=since)
            clocks.stop(incident, at=since, note="resolved")
        if incident.state in ("new", "in_progress"):
            escalation.begin(incident, at=opened)

    def _make(self, model, **values):
        values.setdefault("state", _initial(model))
        obj = model.objects.create(kind=model.KIND, number=next_number(model.NUMBER_PREFIX), **values)
        audit.log_create(obj, None)
        return obj

    def _records(self, u, org, desk, network):
        cust = {"requester": u["customer"], "organisation": org}
        printer = self._make(
            Incident,
            short_description="Printer on floor 3 jams every page",
            description="Since this morning every print job jams.",
            priority="P3",
            assignment_group=desk,
            **cust,
        )
        self._sla(printer, opened_hours_ago=2)
        intranet = self._make(
            Incident,
            short_description="Cannot reach the intranet",
            state="in_progress",
            priority="P2",
            impact=2,
            urgency=2,
            assignment_group=network,
            assignee=u["agent"],
            **cust,
        )
        self._sla(intranet, opened_hours_ago=30)
        battery = self._make(
            Incident,
            short_description="Laptop battery drains in an hour",
            state="resolved",
            priority="P4",
            resolution_code="resolved",
            resolution_notes="Replaced the battery.",
            assignee=u["l1"],
            assignment_group=desk,
            **cust,
        )
        self._sla(battery, opened_hours_ago=50, state_since_hours_ago=4)
        mail = self._make(
            Incident,
            short_description="E-mail delayed for the finance team",
            state="on_hold",
            priority="P3",
            requester=u["customer2"],
            requested_for=u["customer"],
            organisation=org,
            assignment_group=desk,
        )
        self._sla(mail, opened_hours_ago=5, state_since_hours_ago=1, note="Waiting for the mail provider.")
        self._make(
            IncidentTask,
            incident=printer,
            short_description="Check the printer's paper feed",
            assignment_group=desk,
            assignee=u["l1"],
        )
        problem = self._make(
            Problem,
            short_description="Intranet outages after switch reboots",
            assignment_group=network,
            requester=u["agent"],
        )
        self._make(ProblemTask, problem=problem, short_description="Collect switch logs", assignee=u["agent"])
        change = self._changes(u, org, network, intranet)
        self._make(
            ChangeTask, change=change, short_description="Back up switch configuration", assignee=u["agent"]
        )

    def _governance_templates(self):
        templates = {}
        for name, values in [
            ("Standard patching", {
                "description": "Routine, pre-approved patches to servers with a tested procedure.",
                "maturity_level": 4, "min_notice_hours": 24, "required_gates": [],
                "optional_gates": ["Customer notice"], "auto_approve_max_risk": 6,
                "auto_approve_risk_levels": ["low", "medium"],
            }),
            ("Network change", {
                "description": "Changes to switches, routers and firewalls.",
                "maturity_level": 3, "min_notice_hours": 48, "required_gates": ["Peer review", "Backout tested"],
                "optional_gates": ["Customer notice"],
            }),
            ("Major release", {
                "description": "New or moved services; reviewed after go-live.",
                "maturity_level": 2, "min_notice_hours": 120,
                "required_gates": ["Peer review", "Security sign-off", "Test evidence"],
                "optional_gates": ["Go-live announcement"], "pir_required": True,
            }),
        ]:  # fmt: skip
            templates[name], _ = GovernanceTemplate.objects.get_or_create(name=name, defaults=values)
        return templates

    def _changes(self, u, org, network, incident):
        """Changes in several states on the calendar around today, governance templates, a
        maintenance window and a change freeze. Returns the draft the demo's task belongs to."""
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        day = now.replace(hour=0)
        templates = self._governance_templates()
        groups = {group.name: group for group in HostGroup.objects.all()}
        hosts = {host.hostname: host for host in Host.objects.all()}
        sunday = day + timedelta(days=(6 - day.weekday()) % 7 or 7)
        for week in (0, 7):
            start = sunday + timedelta(days=week, hours=2)
            window, created = MaintenanceWindow.objects.get_or_create(
                name="Sunday patch window", start=start,
                defaults={"end": start + timedelta(hours=4), "created_by": u["manager"],
                          "description": "Web servers may be patched and restarted."},
            )  # fmt: skip
            if created:
                window.host_groups.add(groups["Web servers"])
        freeze_start = day + timedelta(days=24)
        ChangeFreeze.objects.get_or_create(
            name="Quarter-end freeze", defaults={"start": freeze_start, "end": freeze_start + timedelta(days=6),
                                                 "created_by": u["manager"],
                                                 "reason": "Finance closes the quarter: only emergency changes."},
        )  # fmt: skip

        def gates(*names, by="agent"):
            at = (now - timedelta(hours=20)).isoformat()
            return {name: {"completed_at": at, "completed_by": u[by].pk, "notes": f"{name}: done, see the plan."}
                    for name in names}  # fmt: skip

        common = {"organisation": org}
        draft = self._change(
            [], short_description="Upgrade core switch firmware", change_type="normal", assignment_group=network,
            assignee=u["agent"], requester=u["lead"], governance_template=templates["Network change"],
            planned_start=day + timedelta(days=9, hours=20), planned_end=day + timedelta(days=9, hours=23),
            justification="Firmware 9.2 fixes the spanning-tree bug behind the intranet outages.",
            implementation_plan="Upgrade the standby switch, fail over, then upgrade the active one.",
            backout_plan="Boot the previous image from flash on each switch.",
            test_plan="Ping sweep of every VLAN and the intranet smoke test.",
            gate_status=gates("Peer review"), hosts=[hosts["core-sw-01"], hosts["core-rtr-01"]], **common,
        )  # fmt: skip
        self._change(
            ["submit"], short_description="Add a VLAN for the new finance floor", change_type="normal",
            assignment_group=network, assignee=u["agent"], requester=u["agent"],
            governance_template=templates["Network change"],
            planned_start=day + timedelta(days=6, hours=19), planned_end=day + timedelta(days=6, hours=21),
            justification="The finance team moves to the 4th floor next month.",
            implementation_plan="Create VLAN 240 on the core, trunk it to the floor switches.",
            backout_plan="Remove VLAN 240 from the trunks and the core.",
            gate_status=gates("Peer review", "Backout tested"), host_groups=[groups["Core network"]], **common,
        )  # fmt: skip
        self._change(
            ["auto-approve"], short_description="Renew the TLS certificates on the web servers",
            change_type="standard", assignment_group=network, assignee=u["l1"], requester=u["l1"],
            governance_template=templates["Standard patching"],
            planned_start=sunday + timedelta(hours=3), planned_end=sunday + timedelta(hours=4),
            implementation_plan="Install the renewed certificates and reload the web servers one by one.",
            backout_plan="Reinstall the previous certificates (valid for another 20 days).",
            cab_decision="approved", decided_at=now - timedelta(days=1), hosts=[hosts["web-01"], hosts["web-02"]],
            **common,
        )  # fmt: skip
        self._change(
            ["submit", "approve", "start"], short_description="Move the intranet to the new web cluster",
            change_type="normal", assignment_group=network, assignee=u["agent"], requester=u["agent"],
            governance_template=templates["Major release"], pir_required=True,
            planned_start=now - timedelta(hours=2), planned_end=now + timedelta(hours=4),
            actual_start=now - timedelta(hours=1),
            implementation_plan="Copy the content, switch the DNS record, watch the error rate.",
            backout_plan="Point the DNS record back at the old server.",
            gate_status=gates("Peer review", "Security sign-off", "Test evidence"), cab_decision="approved",
            decided_by=u["manager"], decided_at=now - timedelta(days=6), cab_notes="Go ahead outside the month end.",
            host_groups=[groups["Web servers"]], **common,
        )  # fmt: skip
        emergency = self._change(
            ["auto-approve", "start", "complete"],
            short_description=f"Emergency change for {incident.number}: restart the core router",
            change_type="emergency", source_type="incident", incident=incident, assignment_group=network,
            assignee=u["agent"], requester=u["agent"], planned_start=now - timedelta(days=4),
            planned_end=now - timedelta(days=4) + timedelta(hours=1), actual_start=now - timedelta(days=4),
            actual_end=now - timedelta(days=4) + timedelta(minutes=40), cab_decision="approved",
            decided_at=now - timedelta(days=4), pir_required=True, pir_due_at=now - timedelta(days=1),
            justification=f"Restores service for incident {incident.number}.",
            implementation_plan="Restart core-rtr-01 in the quiet hour.", hosts=[hosts["core-rtr-01"]], **common,
        )  # fmt: skip
        incident.changes_required.add(emergency)
        self._change(
            ["submit", "approve", "start", "complete", "pir"], short_description="Replace the fuser of the 3rd floor printer",
            change_type="normal", assignee=u["l1"], requester=u["l1"], planned_start=now - timedelta(days=12),
            planned_end=now - timedelta(days=12) + timedelta(hours=1), actual_start=now - timedelta(days=12),
            actual_end=now - timedelta(days=12) + timedelta(minutes=45), cab_decision="approved",
            decided_by=u["lead"], decided_at=now - timedelta(days=15), pir_required=True,
            pir_due_at=now - timedelta(days=9), pir_outcome="successful", pir_recorded_at=now - timedelta(days=11),
            pir_lessons="Keep a spare fuser on site.", pir_follow_ups="Order a spare fuser.",
            hosts=[hosts["printer-3f"]], **common,
        )  # fmt: skip
        self._change(
            ["submit", "reject"], short_description="Decommission the old file server", change_type="normal",
            assignee=u["l1"], requester=u["l1"], planned_start=day + timedelta(days=3, hours=18),
            planned_end=day + timedelta(days=3, hours=20), cab_decision="rejected", decided_by=u["manager"],
            decided_at=now - timedelta(hours=5), cab_notes="No backout plan, and finance still reads from it.",
            **common,
        )  # fmt: skip
        return draft

    def _change(self, path, *, hosts=(), host_groups=(), **values):
        """A demo change that went through ``path`` (transition names, journaled), with its risk
        scored as ``changes.services`` would."""
        state = "draft"
        for name in path:
            state = TRANSITIONS[name].target
        if path and path[-1] == "complete" and not values.get("pir_required"):
            state = "closed"
        change = self._make(Change, state=state, **values)
        change.hosts.set(hosts)
        change.host_groups.set(host_groups)
        fields = risk.score(change).as_fields()
        Change.objects.filter(pk=change.pk).update(**fields)
        previous = "draft"
        for name in path:
            target = TRANSITIONS[name].target
            audit.log_transition(change, values.get("requester"), transition=name, old_state=previous,
                                 new_state=target)  # fmt: skip
            previous = target
        return change

    def _print_logins(self, password):
        self.stdout.write(self.style.SUCCESS("Demo ready. Sign in at http://127.0.0.1:8000/login/ as:"))
        for username, _first, _last, persona, _ in USERS:
            role = Persona(persona).label if persona else "platform administrator (superuser)"
            self.stdout.write(f"  {username:<10} / {password:<6}  {role}")
        self.stdout.write(
            f"Monitoring posts alerts with: Authorization: Token {self.monitoring_token.key} "
            "(POST http://127.0.0.1:8000/api/v1/events/)"
        )


def _initial(model):
    return policy.rules_for(model).initial_state
