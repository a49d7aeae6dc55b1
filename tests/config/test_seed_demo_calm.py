"""seed_demo leaves a calm, coherent desk (issue 17, defect 8): one on-call schedule, a weekly
rotation of the demo agents; the sweeps that run right after start-up find nothing due (no
escalation storm, no breach); a new incident tells the agent on call, not the whole group."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from escalation import services as escalation
from escalation.models import EscalationPolicy
from incidents import services as incidents
from incidents.models import Incident
from incidents.tasks import auto_close
from itsm.models import AuditEntry, User
from notifications.models import Kind, Notification
from oncall.models import Schedule
from oncall.selectors import who_is_on_call
from sla.tasks import sla_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_has_one_on_call_schedule_rotating_the_demo_agents_weekly(demo):
    schedule = Schedule.objects.get()
    assert schedule.rotation == "weekly" and schedule.time_zone == "Europe/London"
    agents = [row.user.username for row in schedule.participant_rows.order_by("position")]
    assert sorted(agents) == ["agent", "l1", "lead"]
    assert who_is_on_call(schedule=schedule).user.username in agents
    first = EscalationPolicy.objects.get(is_default=True).stages.order_by("order").first()
    assert (first.schedule, first.assignment_group) == (schedule, None)


@pytest.mark.parametrize("minutes_later", [0, 5])
def test_the_sweeps_right_after_seeding_find_nothing_due(demo, minutes_later):
    now = timezone.now() + timedelta(minutes=minutes_later)
    notes, journal = Notification.objects.count(), AuditEntry.objects.count()
    levels = dict(Incident.objects.values_list("pk", "escalation_level"))
    stages = dict(Incident.objects.values_list("pk", "escalation_stage"))
    escalation.sweep(now=now)
    sla_sweep(now=now)
    auto_close()
    assert Notification.objects.count() == notes
    assert AuditEntry.objects.count() == journal
    assert dict(Incident.objects.values_list("pk", "escalation_level")) == levels
    assert dict(Incident.objects.values_list("pk", "escalation_stage")) == stages
    assert not Incident.objects.filter(sla_status__in=["at_risk", "breached"]).exists()


def test_a_new_incident_needs_the_agent_on_call_not_the_whole_group(demo):
    before = Notification.objects.filter(kind=Kind.STAGE).count()
    customer = User.objects.get(username="customer")
    incident = incidents.incident_create(actor=customer, data={"short_description": "VPN drops every hour"})
    told = Notification.objects.filter(kind=Kind.STAGE).count() - before
    on_call = who_is_on_call(schedule=Schedule.objects.get()).user
    assert told == 1
    assert Notification.objects.filter(kind=Kind.STAGE, work=incident.pk).get().recipient == on_call
    incident.refresh_from_db()
    assert incident.assignee == on_call
