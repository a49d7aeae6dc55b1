"""Who may manage SLA calendars, working periods and holidays, and who reads clocks."""

from __future__ import annotations

from itsm.policy.rules import kept_by_services, managed_by, register

register(
    # SLA calendars and holidays (SPEC §3): itsm_administrator manages them (itsm.configure);
    # agents read them to explain due times.
    managed_by("itsm.configure", "sla.businesscalendar", ("name", "description", "time_zone", "always_open")),
    managed_by("itsm.configure", "sla.workingperiod", ("calendar", "weekday", "start", "end")),
    managed_by("itsm.configure", "sla.holiday", ("calendar", "name", "date", "recurring")),
    # Clocks are kept by sla.clocks and the sweeps only; agents read them.
    kept_by_services("sla.slaclock"),
)
