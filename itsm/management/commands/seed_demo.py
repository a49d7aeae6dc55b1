"""A ready demo (SPEC §7): one organisation, the seven demo users, and a few records of each kind.

Running it again changes nothing that is already there.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from catalog.models import Request, RequestTask
from changes.models import Change, ChangeTask
from incidents.models import Incident, IncidentTask
from itsm import access, audit
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


class Command(BaseCommand):
    help = "Create the demo organisation, the seven demo users and a few records of each kind."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default="demo", help="Password for every demo user (default: demo)."
        )

    @transaction.atomic
    def handle(self, *args, password, **options):
        sla, _ = SlaDefinition.objects.get_or_create(
            name="Standard", defaults={"description": "Business hours support"}
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
            name="Core network", defaults={"service_tier": "critical", "sla": sla, "organisation": org}
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

        if Work.objects.exists():
            self.stdout.write("Demo records already exist; left them as they are.")
        else:
            self._records(users, org, desk, network)
        self._print_logins(password)

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
        self._make(
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
        self._make(
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
        self._make(
            Incident,
            short_description="E-mail delayed for the finance team",
            state="on_hold",
            priority="P3",
            requester=u["customer2"],
            requested_for=u["customer"],
            organisation=org,
            assignment_group=desk,
        )
        self._make(
            IncidentTask,
            incident=printer,
            short_description="Check the printer's paper feed",
            assignment_group=desk,
            assignee=u["l1"],
        )
        laptop = self._make(
            Request, short_description="New laptop for a starter", state="pending_approval", **cust
        )
        self._make(RequestTask, request=laptop, short_description="Image the laptop", assignment_group=desk)
        problem = self._make(
            Problem,
            short_description="Intranet outages after switch reboots",
            assignment_group=network,
            requester=u["agent"],
        )
        self._make(ProblemTask, problem=problem, short_description="Collect switch logs", assignee=u["agent"])
        change = self._make(
            Change,
            short_description="Upgrade core switch firmware",
            change_type="normal",
            assignment_group=network,
            requester=u["lead"],
        )
        self._make(
            ChangeTask, change=change, short_description="Back up switch configuration", assignee=u["agent"]
        )

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
    from itsm import policy

    return policy.rules_for(model).initial_state
