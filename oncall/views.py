"""Desk pages for on-call (under /desk/oncall/) and the public calendar feed.

Thin views: a selector reads, a form shapes input, a service writes, and a refusal
(``ItsmError``) comes back on the page as form errors — never a 500.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView

from itsm import policy
from itsm.errors import ItsmError
from itsm.validators import is_possible_pk
from itsm.views.base import DeskMixin, error_status
from oncall import feeds, selectors, services, timeline
from oncall.forms import OverrideForm, ScheduleForm, show_errors
from oncall.models import FeedToken, Override, Schedule

PAGE_SIZE = 25
TIMELINE_DAYS = 14


def schedule_or_404(user, pk) -> Schedule:
    """The schedule if the user may read it (with what the pages need); otherwise not found."""
    if not is_possible_pk(Schedule, pk):
        raise Http404("No such schedule.")
    try:
        return selectors.schedules_for(user).get(pk=pk)
    except Schedule.DoesNotExist:
        raise Http404("No such schedule.") from None


def feed_url(request, token: FeedToken) -> str:
    return request.build_absolute_uri(feeds.feed_path(token))


class ScheduleListView(DeskMixin, TemplateView):
    """Schedules, with who is on call now in each and until when."""

    template_name = "oncall/desk/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        can_read = policy.can(user, "read", Schedule)
        page = Paginator(selectors.schedules_for(user).order_by("name", "pk"), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        schedules = list(page.object_list)
        horizon = now + timedelta(days=TIMELINE_DAYS)
        by_schedule = selectors.blocks_by_schedule(schedules, start=now, end=horizon) if schedules else {}
        rows = [
            {"schedule": schedule, "now": by_schedule[schedule.pk][0], "horizon": horizon}
            for schedule in schedules
        ]
        context.update(
            page=page,
            rows=rows,
            can_read=can_read,
            can_create=policy.can(user, "create", Schedule),
            now=now,
        )
        return context


def _palette(schedule: Schedule, blocks) -> dict[int, int]:
    people = selectors.participants(schedule) + [b.user for b in blocks if b.user is not None]
    return timeline.colours(people)


def detail_page(request, schedule: Schedule, *, override_form=None, status: int = 200):
    """The schedule: who is on call now, the next 14 days drawn as a timeline, the overrides
    and the override form, the feed link."""
    user = request.user
    now = timezone.now()
    tz = schedule.tz
    first = now.astimezone(tz).date()
    start, end = timeline.window(first, TIMELINE_DAYS, tz)
    blocks = selectors.blocks_by_schedule([schedule], start=start, end=end)[schedule.pk]
    palette = _palette(schedule, blocks)
    people = selectors.participants(schedule)
    can_override = policy.can(user, "override", schedule)
    if override_form is None and can_override:
        override_form = OverrideForm(schedule=schedule, people=people)
    context = {
        "view": {"door": "desk"},
        "schedule": schedule,
        "tz": tz,
        "now": now,
        "current": selectors.who_is_on_call(schedule=schedule, at=now),
        "days": timeline.days(blocks, first=first, count=TIMELINE_DAYS, tz=tz, palette=palette),
        "blocks": [
            {"block": b, "colour": palette.get(b.user.pk) if b.user is not None else None} for b in blocks
        ],
        "legend": [
            {"user": person, "colour": palette[person.pk]}
            for person in dict.fromkeys(p for p in people + [b.user for b in blocks] if p is not None)
        ],
        "participants": people,
        "groups": [link.group for link in schedule.group_links.all()],
        "overrides": list(selectors.upcoming_overrides(schedule, since=now)),
        "override_form": override_form,
        "can_override": can_override,
        "can_edit": policy.can(user, "update", schedule),
        "can_reset_feed": policy.can(user, "reset_feed", schedule),
        "feed_url": feed_url(request, schedule.feed) if getattr(schedule, "feed", None) else None,
    }
    return render(request, "oncall/desk/detail.html", context, status=status)


class ScheduleDetailView(DeskMixin, View):
    def get(self, request, pk):
        return detail_page(request, schedule_or_404(request.user, pk))


class OnCallNowView(DeskMixin, TemplateView):
    """Who is on call now in every schedule, from when and until when (exact)."""

    template_name = "oncall/desk/now.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        page = Paginator(selectors.schedules_for(user).order_by("name", "pk"), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        schedules = list(page.object_list)
        # Exact bounds from a window around now: a block longer than the window shows its edge.
        start, end = now - timedelta(days=TIMELINE_DAYS), now + timedelta(days=TIMELINE_DAYS)
        by_schedule = selectors.blocks_by_schedule(schedules, start=start, end=end) if schedules else {}
        rows = []
        for schedule in schedules:
            current = selectors.block_holding(by_schedule[schedule.pk], now)
            following = next((b for b in by_schedule[schedule.pk] if b.start >= current.end), None)
            rows.append(
                {
                    "schedule": schedule,
                    "block": current,
                    "since_open": current.start == start,
                    "until_open": current.end == end,
                    "next": following,
                }
            )
        context.update(page=page, rows=rows, now=now, can_read=policy.can(user, "read", Schedule))
        return context


class ScheduleFormView(DeskMixin, View):
    """Create a schedule (no pk) or edit one; incidents.manage decides, in the service."""

    template_name = "oncall/desk/form.html"

    def page(self, request, form, schedule=None, status=200):
        context = {"view": {"door": "desk"}, "form": form, "schedule": schedule}
        return render(request, self.template_name, context, status=status)

    def get(self, request, pk=None):
        schedule = schedule_or_404(request.user, pk) if pk is not None else None
        allowed = (
            policy.can(request.user, "update", schedule)
            if schedule
            else policy.can(request.user, "create", Schedule)
        )
        if not allowed:
            return render(request, "oncall/desk/refused.html", {"view": {"door": "desk"}}, status=403)
        initial = ScheduleForm.initial_for(schedule) if schedule else None
        return self.page(request, ScheduleForm(initial=initial, user=request.user), schedule)

    def post(self, request, pk=None):
        schedule = schedule_or_404(request.user, pk) if pk is not None else None
        current = schedule.time_zone if schedule else ""
        form = ScheduleForm(request.POST, user=request.user, current_time_zone=current)
        if not form.is_valid():
            return self.page(request, form, schedule, status=400)
        try:
            if schedule is None:
                schedule = services.schedule_create(actor=request.user, data=form.cleaned_data)
                messages.success(request, f"Schedule {schedule} created.")
            else:
                changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
                schedule = services.schedule_update(schedule=schedule, actor=request.user, data=changed)
                messages.success(request, f"Schedule {schedule} saved.")
        except ItsmError as exc:
            show_errors(form, exc)
            return self.page(request, form, schedule, status=error_status(exc))
        return redirect("desk:oncall-detail", pk=schedule.pk)


class OverrideCreateView(DeskMixin, View):
    def post(self, request, pk):
        schedule = schedule_or_404(request.user, pk)
        form = OverrideForm(request.POST, schedule=schedule, people=selectors.participants(schedule))
        if not form.is_valid():
            return detail_page(request, schedule, override_form=form, status=400)
        try:
            override = services.override_create(
                schedule=schedule, actor=request.user, data=form.service_data()
            )
        except ItsmError as exc:
            show_errors(form, exc)
            return detail_page(request, schedule, override_form=form, status=error_status(exc))
        messages.success(request, f"{override.user} is on call from {override.start:%d %b %H:%M} UTC.")
        return redirect(reverse("desk:oncall-detail", args=[schedule.pk]) + "#overrides")


class OverrideDeleteView(DeskMixin, View):
    def post(self, request, pk, override_id):
        schedule = schedule_or_404(request.user, pk)
        override = (
            schedule.overrides.filter(pk=override_id).first()
            if is_possible_pk(Override, override_id)
            else None
        )
        if override is None:
            raise Http404("No such override.")
        try:
            services.override_delete(override=override, actor=request.user)
        except ItsmError as exc:
            error_status(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, "Override removed: the rotation applies again.")
        return redirect(reverse("desk:oncall-detail", args=[schedule.pk]) + "#overrides")


class FeedResetView(DeskMixin, View):
    def post(self, request, pk):
        schedule = schedule_or_404(request.user, pk)
        try:
            services.feed_reset(actor=request.user, schedule=schedule)
        except ItsmError as exc:
            error_status(exc)  # a refusal is a 403 page
            raise Http404(exc.message) from exc
        messages.success(request, "The feed has a new link; the old one no longer works.")
        return redirect(reverse("desk:oncall-detail", args=[schedule.pk]) + "#feed")


class MyFeedView(DeskMixin, View):
    """The link to subscribe to one's own shifts, and a button to change it."""

    def get(self, request):
        if not policy.can(request.user, "read", Schedule):
            return render(request, "oncall/desk/refused.html", {"view": {"door": "desk"}}, status=403)
        token = services.person_feed(user=request.user)
        shifts = selectors.person_shifts(
            user=request.user, start=timezone.now(), end=timezone.now() + timedelta(days=TIMELINE_DAYS)
        )
        context = {"view": {"door": "desk"}, "feed_url": feed_url(request, token), "shifts": shifts}
        return render(request, "oncall/desk/my_feed.html", context)

    def post(self, request):
        if not policy.can(request.user, "read", Schedule):
            return render(request, "oncall/desk/refused.html", {"view": {"door": "desk"}}, status=403)
        services.feed_reset(actor=request.user, person=request.user)
        messages.success(request, "Your feed has a new link; the old one no longer works.")
        return redirect("desk:oncall-my-feed")


@require_safe
def feed(request, pk: int, token: str):
    """The public iCalendar feed behind a secret link (no sign-in: calendar apps subscribe)."""
    found = feeds.find(pk, token) if is_possible_pk(FeedToken, pk) else None
    if found is None:
        raise Http404("No such feed.")
    body, filename = feeds.calendar_for(found)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
