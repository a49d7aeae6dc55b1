"""Benchmark: the knowledge base's desk and portal pages at ~50,000 articles — the desk article
list (first page; filtered; word search), the review queue, an article's desk page, the portal
search (several searches) and article page, the portal "raise an incident" form with its panel
(and a refused raise, whose panel suggests server-side), and the desk incident page with its
knowledge panel.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python manage.py seed_bulk --incidents 1000000      # ~50,000 articles
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python bench/knowledge_pages.py [--runs 30]

Requests go through the whole Django stack in-process (test client): a knowledge manager on
the desk (it reads every article), a customer on the portal. Each is run ``--runs`` times after
two warm-ups. Not part of the test suite; the search and suggest API figures are
``bench/knowledge_at_scale.py``'s.
"""

from __future__ import annotations

import argparse

# isort: off
from timing import ok, row, timed  # sets Django up, before any model is imported
# isort: on

from django.test import Client
from django.urls import reverse

from incidents.models import Incident
from itsm import policy
from itsm.models import User
from knowledge.models import Article, ArticleState, Audience

SEARCHES = ["printer", "vpn disconnects", "password reset", "outlook mailbox full", "printers jammed",
            "certificate error on login"]  # fmt: skip








def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    o = parser.parse_args()
    manager = next(u for u in User.objects.filter(is_active=True).order_by("pk")
                   if policy.has_permission(u, "knowledge.publish") and policy.has_permission(u, "desk.access"))  # fmt: skip
    customer = next(u for u in User.objects.filter(is_active=True, organisation__isnull=False).order_by("pk")
                    if not policy.has_permission(u, "desk.access"))  # fmt: skip
    desk, portal = client_for(manager), client_for(customer)
    published = Article.objects.filter(state=ArticleState.PUBLISHED, audience=Audience.EVERYONE, revision_of=None)
    article = published.order_by("-pk").first()
    incident = Incident.objects.order_by("-pk").first()
    lines = [
        f"Dataset: {Article.objects.count():,} articles ({published.count():,} published for everyone), "
        f"{Incident.objects.count():,} incidents.",
        "",
        "| What | median ms | p95 ms | target p95 | SQL queries |",
        "|---|---:|---:|---:|---:|",
    ]
    desk_list = reverse("desk:article-list")
    for label, query in (("first page", {}), ("published, category", {"state": "published", "category": article.category}),
                         ("words", {"q": "printer"})):  # fmt: skip
        times, queries = timed(lambda q=query: ok(desk.get(desk_list, q)), o.runs)
        lines.append(row(f"Desk article list, {label} (`/desk/knowledge/`)", times, queries, 100))
    times, queries = timed(lambda: ok(desk.get(reverse("desk:article-review"))), o.runs)
    lines.append(row("Desk review queue", times, queries, 100))
    times, queries = timed(lambda: ok(desk.get(reverse("desk:article-detail", args=[article.pk]))), o.runs)
    lines.append(row(f"Desk article page (`{article.number}`)", times, queries, 50))
    every = []
    for text in SEARCHES:
        times, queries = timed(lambda t=text: ok(portal.get(reverse("portal:knowledge"), {"q": t})), o.runs)
        every += times
        lines.append(row(f"Portal search `?q={text}`", times, queries, 100))
    lines.append(row("**Portal search, all of the above**", every, queries, 100))
    times, queries = timed(lambda: ok(portal.get(reverse("portal:knowledge-article", args=[article.pk]))), o.runs)
    lines.append(row(f"Portal article page (`{article.number}`)", times, queries, 30))
    raise_url = reverse("portal:incident-new")
    times, queries = timed(lambda: ok(portal.get(raise_url)), o.runs)
    lines.append(row("Portal raise form with its panel", times, queries, 50))
    refused = {"short_description": "", "description": "my printer shows offline and will not print"}
    times, queries = timed(lambda: ok(portal.post(raise_url, refused), 400), o.runs)
    lines.append(row("Portal raise form refused, panel suggesting server-side", times, queries, 100))
    times, queries = timed(lambda: ok(desk.get(reverse("desk:incident-detail", args=[incident.pk]))), o.runs)
    lines.append(row(f"Desk incident page with the knowledge panel (`{incident.number}`)", times, queries, 150))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
