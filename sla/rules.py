"""Who may manage SLA calendars, working periods and holidays (itsm.configure) and read clocks."""

from __future__ import annotations

from itsm.policy.rules import AGENT, PERMISSIONS, Read, RecordRules, Update, register

register(
    # SLA calendars and holidays (SPEC §3): itsm_administrator manages them (itsm.configure);
    # agents read them to explain due times.
    *(
        RecordRules(
            label=label,
            states=(),
            initial_state="",
            create=PERMISSIONS["itsm.configure"],
            read=(Read(AGENT),),
            update=tuple(Update(role) for role in sorted(PERMISSIONS["itsm.configure"])),
            delete=PERMISSIONS["itsm.configure"],
            editable=editable,
        )
        for label, editable in (
            ("sla.businesscalendar", ("name", "description", "time_zone", "always_open")),
            ("sla.workingperiod", ("calendar", "weekday", "start", "end")),
            ("sla.holiday", ("calendar", "name", "date", "recurring")),
        )
    ),
    # Clocks are kept by sla.clocks and the sweeps only; agents read them.
    RecordRules(
        label="sla.slaclock",
        states=(),
        initial_state="",
        create=frozenset(),
        read=(Read(AGENT),),
        update=(),
        delete=frozenset(),
    ),
)
