"""Risk auto-scoring (SPEC §5, made exact): score = impact × likelihood, 1–25.

Impact (1–5):
- the distinct affected hosts — the change's hosts plus the hosts of its host groups:
  0–1 → 1, 2–5 → 2, 6–20 → 3, 21–50 → 4, 51+ → 5;
- plus the bonus of the worst service tier among the groups the change touches — the host
  groups it names and the groups of the hosts it names (a host is part of its group's service) —
  +2 for critical, else +1 for high (the worst tier's bonus, never a sum);
- plus 1 when the planned start (now, without one) is Monday–Friday in [08:00, 18:00) UTC;
- clamped to 5.

Likelihood (1–5): standard 1, normal 2, emergency 4; −1 when a change of the same
``source_type`` and ``change_type`` has been closed anywhere in the installation (the change
itself never counts); clamped to 1–5.

Level: low 1–4, medium 5–9, high 10–16, critical 17–25.

``risk_factors`` (stored on the change) is a list of ``{"factor", "value", "contribution"}``:
``affected_hosts`` (count, points), ``service_tier`` (worst tier or "", bonus),
``business_hours`` (bool, 0/1), ``impact`` (the sum before the clamp, the clamped impact),
``change_type`` (type, points), ``repeat`` (bool, 0/−1), ``likelihood`` (the sum before the
clamp, the clamped likelihood). Three queries whatever the number of hosts, all aggregated in
the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q
from django.utils import timezone

from changes.models import Change, ChangeState, ChangeType, RiskLevel
from itsm.models import Host, HostGroup, ServiceTier

HOST_POINTS = ((1, 1), (5, 2), (20, 3), (50, 4))  # (at most this many hosts, points); more: 5
TIER_BONUS = {ServiceTier.CRITICAL: 2, ServiceTier.HIGH: 1}
TYPE_POINTS = {ChangeType.STANDARD: 1, ChangeType.NORMAL: 2, ChangeType.EMERGENCY: 4}
LEVELS = ((4, RiskLevel.LOW), (9, RiskLevel.MEDIUM), (16, RiskLevel.HIGH), (25, RiskLevel.CRITICAL))
BUSINESS_HOURS = (8, 18)  # [08:00, 18:00) UTC, Monday to Friday

ChangeHost = Change.hosts.through
ChangeGroup = Change.host_groups.through


@dataclass(frozen=True)
class Risk:
    score: int
    level: str
    factors: list[dict]

    def as_fields(self) -> dict:
        return {"risk_score": self.score, "risk_level": self.level, "risk_factors": self.factors}


def host_points(count: int) -> int:
    for most, points in HOST_POINTS:
        if count <= most:
            return points
    return 5


def tier_bonus(tiers) -> tuple[str, int]:
    """The worst tier among ``tiers`` that earns a bonus, and its bonus ("", 0: none does)."""
    best = ("", 0)
    for tier in tiers:
        bonus = TIER_BONUS.get(tier, 0)
        if bonus > best[1]:
            best = (str(tier), bonus)
    return best


def in_business_hours(moment: datetime) -> bool:
    utc = moment.astimezone(UTC)
    return utc.weekday() < 5 and BUSINESS_HOURS[0] <= utc.hour < BUSINESS_HOURS[1]


def level_of(score: int) -> str:
    for most, level in LEVELS:
        if score <= most:
            return level
    return RiskLevel.CRITICAL


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def affected_hosts(change: Change):
    """The distinct hosts the change touches: its own and those of its host groups (a queryset)."""
    return Host.objects.filter(
        Q(pk__in=ChangeHost.objects.filter(change_id=change.pk).values("host_id"))
        | Q(host_group_id__in=ChangeGroup.objects.filter(change_id=change.pk).values("hostgroup_id"))
    )


def touched_groups(change: Change):
    """The host groups the change touches: those it names and those of the hosts it names."""
    return HostGroup.objects.filter(
        Q(pk__in=ChangeGroup.objects.filter(change_id=change.pk).values("hostgroup_id"))
        | Q(pk__in=Host.objects.filter(pk__in=ChangeHost.objects.filter(change_id=change.pk).values("host_id"))
            .values("host_group_id"))
    )  # fmt: skip


def impact_points(host_count: int, tiers, moment: datetime) -> tuple[int, list[dict]]:
    """The clamped impact and its factors (shared with the impact analysis)."""
    hosts = host_points(host_count)
    tier, bonus = tier_bonus(tiers)
    hours = 1 if in_business_hours(moment) else 0
    raw = hosts + bonus + hours
    impact = clamp(raw, 1, 5)
    return impact, [
        {"factor": "affected_hosts", "value": host_count, "contribution": hosts},
        {"factor": "service_tier", "value": tier, "contribution": bonus},
        {"factor": "business_hours", "value": bool(hours), "contribution": hours},
        {"factor": "impact", "value": raw, "contribution": impact},
    ]


def repeat_closed(change: Change) -> bool:
    return (
        Change.objects.filter(
            state=ChangeState.CLOSED, source_type=change.source_type, change_type=change.change_type
        )
        .exclude(pk=change.pk)
        .exists()
    )


def likelihood_points(change: Change) -> tuple[int, list[dict]]:
    points = TYPE_POINTS.get(change.change_type, 2)
    repeat = repeat_closed(change)
    raw = points - (1 if repeat else 0)
    likelihood = clamp(raw, 1, 5)
    return likelihood, [
        {"factor": "change_type", "value": str(change.change_type), "contribution": points},
        {"factor": "repeat", "value": repeat, "contribution": -1 if repeat else 0},
        {"factor": "likelihood", "value": raw, "contribution": likelihood},
    ]


def score(change: Change, *, now: datetime | None = None) -> Risk:
    """The change's risk as SPEC §5 says (the change is saved, with its hosts and groups set)."""
    moment = change.planned_start or now or timezone.now()
    host_count = affected_hosts(change).count()
    tiers = set(touched_groups(change).values_list("service_tier", flat=True).distinct())
    impact, impact_factors = impact_points(host_count, tiers, moment)
    likelihood, likelihood_factors = likelihood_points(change)
    total = clamp(impact * likelihood, 1, 25)
    return Risk(score=total, level=level_of(total), factors=impact_factors + likelihood_factors)
