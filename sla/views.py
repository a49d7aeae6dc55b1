"""Desk pages for SLAs: the compliance report (``/desk/sla/compliance/``).

Thin: a GET form shapes the filters, ``sla.report.compliance`` counts, and the chart of met %
per period is drawn here as inline SVG geometry (no JavaScript), with the same numbers in a
table beneath it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from django import forms
from django.shortcuts import render
from django.views import View

from itsm import policy
from itsm.errors import InvalidInput
from itsm.models import AssignmentGroup, Organisation, Priority
from itsm.views.base import DeskMixin
from sla import report
from sla.models import ClockTarget

EMPTY = (
    "No SLA measurements finished in this range yet — clocks count once they stop: "
    "at first response and at resolution."
)
PERIOD_NAMES = {"day": "day", "week": "week", "month": "month"}


class ComplianceFilterForm(forms.Form):
    """The report's filters; field names are the API's query parameters."""

    start = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.ChoiceField(
        label="Per", required=False, choices=[("day", "Day"), ("week", "Week"), ("month", "Month")]
    )
    priority = forms.ChoiceField(label="Priority", required=False, choices=[("", "All"), *Priority.choices])
    assignment_group = forms.TypedChoiceField(label="Group", required=False, coerce=int, empty_value=None)
    organisation = forms.TypedChoiceField(label="Organisation", required=False, coerce=int, empty_value=None)
    target = forms.ChoiceField(label="Target", required=False, choices=[("", "Both"), *ClockTarget.choices])

    def __init__(self, *args, groups=(), organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignment_group"].choices = [("", "All"), *((str(g.pk), g.name) for g in groups)]
        self.fields["organisation"].choices = [("", "All"), *((str(o.pk), o.name) for o in organisations)]

    def report_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "period": data["period"] or "week",
            "priority": data["priority"] or None,
            "group": data["assignment_group"],
            "organisation": data["organisation"],
            "target": data["target"] or None,
        }


def period_label(day: date, period: str, *, short: bool = False) -> str:
    """How a period is named: "Week of 4 Mar 2024", "Mon 4 Mar 2024", "March 2024"."""
    if period == "month":
        return f"{day:%b %Y}" if short else f"{day:%B %Y}"
    if short:
        return f"{day.day} {day:%b}"
    return f"Week of {day.day} {day:%b %Y}" if period == "week" else f"{day:%a} {day.day} {day:%b %Y}"


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1f} %"


def chart(rows: list[dict], period: str) -> dict:
    """The geometry of the met % bar chart (SVG user units), one bar per period. A period with
    no measurements has no bar; a 0 % period keeps a thin stub so it reads differently."""
    width, height = 760, 260
    left, right, top, bottom = 48, 12, 18, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(rows), 1)
    slot = plot_w / count
    bar_w = max(min(slot * 0.7, 56), 1.0)
    every = max(1, math.ceil(count / max(1, int(plot_w // 64))))
    bars = []
    for i, row in enumerate(rows):
        x = left + i * slot + (slot - bar_w) / 2
        label = period_label(row["period"], period)
        pct = row["met_percent"]
        h = 0.0 if pct is None else max(plot_h * pct / 100, 2.0)
        bars.append(
            {
                "x": f"{x:.1f}",
                "y": f"{top + plot_h - h:.1f}",
                "w": f"{bar_w:.1f}",
                "h": f"{h:.1f}",
                "cx": f"{x + bar_w / 2:.1f}",
                "has_data": pct is not None,
                "value": "" if pct is None else f"{pct:.0f}%",
                "value_y": f"{top + plot_h - h - 4:.1f}",
                "show_value": pct is not None and slot >= 30,
                "axis_label": period_label(row["period"], period, short=True) if i % every == 0 else "",
                "title": (
                    f"{label}: no measurements"
                    if pct is None
                    else f"{label}: {_pct(pct)} met ({row['met']} of {row['measured']})"
                ),
            }
        )
    grid = [
        {"y": f"{top + plot_h - plot_h * p / 100:.1f}", "label": f"{p}%", "base": p == 0}
        for p in (0, 25, 50, 75, 100)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "top": top,
        "base_y": f"{top + plot_h:.1f}",
        "plot_h": f"{plot_h:.1f}",
        "label_y": f"{top + plot_h + 18:.1f}",
        "mid_x": f"{left + plot_w / 2:.1f}",
        "mid_y": f"{top + plot_h / 2:.1f}",
        "grid": grid,
        "bars": bars,
    }


def describe(data: dict, first_day: date, last_day: date) -> str:
    """The chart's text alternative: the range, the total and the lowest and highest periods."""
    rows, period, overall = data["by_period"], data["period"], data["overall"]
    count = f"{len(rows)} {PERIOD_NAMES[period]}{'s' if len(rows) != 1 else ''}"
    span = f"{count} from {first_day.day} {first_day:%b %Y} to {last_day.day} {last_day:%b %Y}"
    if not overall["measured"]:
        return f"{span}. {EMPTY}"
    measured = [r for r in rows if r["measured"]]
    low = min(measured, key=lambda r: (r["met_percent"], r["period"]))
    high = max(measured, key=lambda r: (r["met_percent"], r["period"]))
    return (
        f"{span}. {overall['met']} of {overall['measured']} measurements met their target "
        f"({_pct(overall['met_percent'])}). Lowest: {period_label(low['period'], period)}, "
        f"{_pct(low['met_percent'])}; highest: {period_label(high['period'], period)}, "
        f"{_pct(high['met_percent'])}; {len(rows) - len(measured)} without measurements."
    )


class ComplianceReportView(DeskMixin, View):
    """SLA compliance: met % of the clocks that stopped in a range, per period (a chart and a
    table), and by priority, assignment group, organisation and target."""

    template_name = "sla/desk/compliance.html"

    def get(self, request):
        user = request.user
        if not policy.has_permission(user, "sla.report"):
            return render(request, "sla/desk/refused.html", {"view": {"door": "desk"}}, status=403)
        zone = report.report_zone()
        start, end = report.default_range(zone)
        query = {
            "start": start.date().isoformat(),
            "end": (end - timedelta(days=1)).date().isoformat(),
            "period": "week",
        }
        query.update({k: v for k, v in request.GET.items() if v != ""})
        form = ComplianceFilterForm(
            query,
            groups=policy.readable(user, AssignmentGroup).order_by("name").only("pk", "name"),
            organisations=policy.readable(user, Organisation).order_by("name").only("pk", "name"),
        )
        data, status = None, 200
        if form.is_valid():
            try:
                data = report.compliance(**form.report_kwargs(), user=user)
            except InvalidInput as exc:
                status = 400
                for field, messages in exc.fields.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
        else:
            status = 400
        context = {"view": {"door": "desk"}, "form": form, "data": data, "empty_message": EMPTY}
        if data is not None:
            period = data["period"]
            first_day = data["start"].astimezone(zone).date()
            last_day = (data["end"].astimezone(zone) - timedelta(microseconds=1)).date()
            context.update(
                chart=chart(data["by_period"], period),
                chart_summary=describe(data, first_day, last_day),
                period_name=PERIOD_NAMES[period],
                periods=[{**row, "label": period_label(row["period"], period)} for row in data["by_period"]],
                first_day=first_day,
                last_day=last_day,
                filtered=any(v is not None for v in data["filters"].values()),
            )
        return render(request, self.template_name, context, status=status)
