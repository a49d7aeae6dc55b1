"""Who is calling, for the limits on sign-in failures (django-axes) and API rates.

Behind proxies, the client is the address the nearest trusted proxy saw: the
``TRUSTED_PROXY_COUNT``-th address from the right of ``X-Forwarded-For`` (each proxy appends the
address it received from). Without trusted proxies it is the connection's address, since anyone
can send an ``X-Forwarded-For`` header.
"""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote
    return hops[-min(proxies, len(hops))]
