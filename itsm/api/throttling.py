"""API rate limits: per signed-in user (so per API token), else per client address.

A fixed window per minute (or second, hour, day) counted in the cache with one ``incr``: cheap
whatever the rate, and shared by every web process when the cache is Redis (``CACHE_URL``).
The rates are read from ``settings.API_THROTTLE_RATES`` on each request (``None``: no limit);
a view may name its own scope (``throttle_scope = "events"`` for alert ingestion, whose storms
are bursts by design).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.throttling import BaseThrottle

from itsm.security import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60)."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError) as exc:
        raise ImproperlyConfigured(f"An API rate must look like 600/min, not {rate!r}.") from exc


class ApiRateThrottle(BaseThrottle):
    def __init__(self):
        self.retry_after: float | None = None

    def scope_for(self, request, view) -> str:
        scope = getattr(view, "throttle_scope", None)
        if scope:
            return scope
        return "user" if request.user and request.user.is_authenticated else "anon"

    def allow_request(self, request, view) -> bool:
        scope = self.scope_for(request, view)
        rate = settings.API_THROTTLE_RATES.get(scope)
        if not rate:
            return True
        limit, period = parse_rate(rate)
        ident = request.user.pk if request.user and request.user.is_authenticated else client_ip(request)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{scope}:{ident}:{period}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period + 1)
            count = 1
        if count > limit:
            self.retry_after = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self.retry_after
