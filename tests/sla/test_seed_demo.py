"""seed_demo makes the SLA and escalation demo: calendars, SLAs, a default escalation policy,
and clocks on the demo incidents (made after the SLAs, so they get them)."""

from io import StringIO

import pytest
from django.core.management import call_command

from escalation.models import EscalationPolicy
from incidents.models import Incident
from itsm.models import HostGroup, SlaDefinition
from sla.models import BusinessCalendar, ClockState, SlaClock

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_calendars_slas_an_escalation_policy_and_clocks_on_the_demo_incidents():
    call_command("seed_demo", stdout=StringIO())
    office = BusinessCalendar.objects.get(name="Business hours")
    assert office.hours_summary() == "Mon–Fri 09:00–17:00 (Europe/London)"
    assert {(h.name, h.recurring) for h in office.holidays.all()} >= {
        ("Christmas Day", True),
        ("Boxing Day", True),
    }
    assert BusinessCalendar.objects.get(name="24×7").always_open
    standard = SlaDefinition.objects.get(is_default=True)
    assert (standard.name, standard.calendar) == ("Standard", office)
    assert standard.target_minutes("P1", "response") == 15
    critical = SlaDefinition.objects.get(name="Critical services 24×7")
    assert HostGroup.objects.get(name="Core network").sla == critical
    policy = EscalationPolicy.objects.get(is_default=True, organisation__isnull=True)
    assert policy.stages.count() == 2
    for incident in Incident.objects.all():
        assert SlaClock.objects.filter(work=incident, is_current=True).exists(), incident
        assert incident.sla_definition == standard
    on_hold = Incident.objects.get(state="on_hold")
    assert SlaClock.objects.filter(work=on_hold, state=ClockState.PAUSED).exists()
    resolved = Incident.objects.get(state="resolved")
    assert set(SlaClock.objects.filter(work=resolved).values_list("state", flat=True)) == {ClockState.STOPPED}
    new = Incident.objects.get(state="new")
    assert (new.escalation_policy, new.escalation_stage) == (policy, 1)


def test_seed_demo_twice_makes_no_second_calendar_sla_policy_or_clock():
    call_command("seed_demo", stdout=StringIO())
    counts = (BusinessCalendar.objects.count(), SlaDefinition.objects.count(), EscalationPolicy.objects.count(),
              SlaClock.objects.count())  # fmt: skip
    call_command("seed_demo", stdout=StringIO())
    assert (
        BusinessCalendar.objects.count(), SlaDefinition.objects.count(), EscalationPolicy.objects.count(),
        SlaClock.objects.count(),
    ) == counts  # fmt: skip
