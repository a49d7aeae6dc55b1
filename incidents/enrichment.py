"""Derived incident fields: urgency and impact from severity, hosts and service tier; priority
from the impact × urgency matrix; category from the source.

Defaults (administrators edit the priority matrix in admin):

=========  =========  =========  =========
impact     urgency 1  urgency 2  urgency 3
=========  =========  =========  =========
1 high     P1         P2         P3
2 medium   P2         P3         P4
3 low      P3         P4         P4
=========  =========  =========  =========

Impact starts from severity (critical → 1, major → 2, other → 3) and is raised one level when
3 or more hosts are affected, two when 10 or more, and one more when a host's group is of the
critical service tier (or, for a low base impact, the high tier). Urgency is critical → 1,
major → 2, other → 3.
"""

from __future__ import annotations

from collections.abc import Iterable

from incidents.models import Level, PriorityMatrix, Severity, Source
from itsm.models import Priority, ServiceTier

DEFAULT_MATRIX = {
    (1, 1): Priority.P1, (1, 2): Priority.P2, (1, 3): Priority.P3,
    (2, 1): Priority.P2, (2, 2): Priority.P3, (2, 3): Priority.P4,
    (3, 1): Priority.P3, (3, 2): Priority.P4, (3, 3): Priority.P4,
}  # fmt: skip

CATEGORY_BY_SOURCE = {
    Source.MANUAL: ("General", ""),
    Source.ALERT: ("Monitoring", "Metric alert"),
    Source.EVENT: ("Monitoring", "Event"),
    Source.STORM: ("Monitoring", "Cross-host storm"),
}


def urgency_for(severity: str) -> int:
    return {Severity.CRITICAL: Level.HIGH, Severity.MAJOR: Level.MEDIUM}.get(severity, Level.LOW)


def impact_for(severity: str, *, host_count: int = 0, tiers: Iterable[str] = ()) -> int:
    impact = {Severity.CRITICAL: Level.HIGH, Severity.MAJOR: Level.MEDIUM}.get(severity, Level.LOW)
    if host_count >= 10:
        impact -= 2
    elif host_count >= 3:
        impact -= 1
    tiers = set(tiers)
    if ServiceTier.CRITICAL in tiers or (ServiceTier.HIGH in tiers and impact >= Level.LOW):
        impact -= 1
    return max(Level.HIGH, min(Level.LOW, impact))


def priority_for(impact: int, urgency: int) -> str:
    cell = (
        PriorityMatrix.objects.filter(impact=impact, urgency=urgency)
        .values_list("priority", flat=True)
        .first()
    )
    return cell or DEFAULT_MATRIX[(impact, urgency)]


def category_for(source: str, detail: str = "") -> tuple[str, str]:
    category, subcategory = CATEGORY_BY_SOURCE.get(source, ("General", ""))
    return category, (detail or subcategory)[:60]
