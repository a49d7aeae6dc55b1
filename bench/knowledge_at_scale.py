"""Benchmark: the knowledge base at about 50,000 articles — search and suggestions (targets: p95
≤ 50 ms on PostgreSQL), through the selectors and through the API, as a customer and as an
agent, and the portal's article page (p95 ≤ 30 ms; the API's article detail where the portal
page is not mounted).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python manage.py seed_bulk --incidents 1000000          # 50,000 articles
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python bench/knowledge_at_scale.py [--runs 30]

Requests go through the whole Django stack in-process (test client, signed-in user); each is
run ``--runs`` times after two warm-ups; the p95 of a group is over all its requests. Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import gc
import statistics

# isort: off
from timing import ok, p95, row, timed  # sets Django up, before any model is imported
# isort: on

from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse

from itsm.models import User
from knowledge import selectors
from knowledge.models import Article

SEARCHES = [
    "printer", "printers", "restart", "password reset", "outlook crashes", "vpn disconnecting",
    '"certificate warning"', "sign in -password", "teams audio drops calls", "zebrafish",
]  # fmt: skip
# What customers type on the raise-an-incident form (short description + description).
INCIDENT_TEXTS = [
    "Outlook crashes. Since this morning Outlook crashes every time I open an attachment, I already restarted "
    "the laptop twice. Thanks for your help!",
    "VPN keeps dropping. Working from home, the VPN client disconnects every few minutes and Teams calls drop.",
    "Cannot print. The printer on floor 3 prints blank pages, other people have the same problem.",
    "Password. I changed my password yesterday and now the MFA app rejects the one-time code.",
    "Laptop slow. My laptop is very slow after the latest update, the fan is loud and CPU is at 100%.",
    "SAP access. I get access denied when opening the procurement portal from SAP.",
    "Hello. It does not work, please help.",
    "Docking station monitor blank. The second monitor on my docking station shows a blank screen after moving "
    "desks.",
]










def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    o = parser.parse_args()
    gc.freeze()
    customer = User.objects.filter(username__contains="-customer-").order_by("pk").first()
    agent = User.objects.filter(username__contains="-agent-").order_by("pk").first()
    clients = {}
    for name, user in (("customer", customer), ("agent", agent)):
        clients[name] = Client()
        clients[name].force_login(user)
    published = Article.objects.filter(state="published")
    lines = [
        f"Dataset: {Article.objects.count():,} articles, {published.count():,} published "
        f"({published.filter(audience='everyone').count():,} for everyone); database {connection.vendor}.",
        "",
        "| What | median ms | p95 ms | target p95 | SQL queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for who in ("customer", "agent"):
        user = User.objects.get(pk=(customer if who == "customer" else agent).pk)
        every, api_every = [], []
        for text in SEARCHES:
            times, queries = timed(lambda t=text, u=user: selectors.search(u, t, limit=20), o.runs)
            every += times
            api, api_queries = timed(
                lambda t=text, w=who: ok(clients[w].get("/api/v1/articles/", {"search": t})), o.runs
            )
            api_every += api
            lines.append(row(f"{who}: search `{text}` (selector / API)", times, queries, "")
                         + f" API {statistics.median(api):.1f} / {p95(api):.1f} ms, {api_queries} queries |")  # fmt: skip
        lines.append(row(f"**{who}: search, all of the above (selector)**", every, queries, "≤ 50"))
        lines.append(row(f"**{who}: search, all of the above (`/api/v1/articles/?search=`)**", api_every,
                         api_queries, "≤ 50"))  # fmt: skip
        every, api_every = [], []
        for text in INCIDENT_TEXTS:
            times, queries = timed(lambda t=text, u=user: selectors.suggest(u, t), o.runs)
            every += times
            api, api_queries = timed(
                lambda t=text, w=who: ok(clients[w].get("/api/v1/articles/suggest/", {"text": t})), o.runs
            )
            api_every += api
            lines.append(row(f"{who}: suggest `{text[:40]}…` (selector / API)", times, queries, "")
                         + f" API {statistics.median(api):.1f} / {p95(api):.1f} ms, {api_queries} queries |")  # fmt: skip
        lines.append(row(f"**{who}: suggest, all of the above (selector)**", every, queries, "≤ 50"))
        lines.append(row(f"**{who}: suggest, all of the above (`/api/v1/articles/suggest/`)**", api_every,
                         api_queries, "≤ 50"))  # fmt: skip
    article = published.filter(audience="everyone").order_by("-helpful_count", "-pk").first()
    try:
        url, label = reverse("portal:knowledge-article", args=[article.pk]), "Portal article page"
    except NoReverseMatch:
        url, label = f"/api/v1/articles/{article.pk}/", "API article detail (no portal page mounted)"
    times, queries = timed(lambda: ok(clients["customer"].get(url)), o.runs)
    lines.append(row(f"{label} (`{url}`, customer)", times, queries, "≤ 30"))
    try:
        url = reverse("portal:knowledge")
        times, queries = timed(lambda: ok(clients["customer"].get(url, {"q": "printer offline"})), o.runs)
        lines.append(row(f"Portal knowledge search page (`{url}?q=printer offline`)", times, queries, "—"))
    except NoReverseMatch:
        pass
    times, queries = timed(lambda: ok(clients["agent"].get("/api/v1/articles/", {"state": "published"})), o.runs)
    lines.append(row("API article list, first page (agent)", times, queries, "—"))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
