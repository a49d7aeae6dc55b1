"""Benchmark: the service catalog at a million incidents (about 500,000 requests) — a customer's
My Requests (portal), the desk request queue's first page, the API's request list, a customer's
approval queue, the request pages, and raising a request on a 30-field form through the portal
and through the API.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python manage.py seed_bulk --incidents 1000000   # 500,000 requests, 40 items
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/itsm_bulk \\
        .venv/bin/python bench/catalog_at_scale.py [--runs 30]

Requests go through the whole Django stack in-process (test client, signed-in users); each is
run ``--runs`` times after two warm-ups. Raising a request writes one (its approvals, grants and
clocks too) per run, so the dataset grows by a few dozen requests. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import random

# isort: off
from timing import ok, row, timed  # sets Django up, before any model is imported
# isort: on

from django.db.models import Count
from django.test import Client
from django.urls import reverse

from catalog.models import CatalogItem, Request, RequestApproval
from incidents.models import Incident
from itsm.models import User


def portal_post(fields, answers) -> dict:
    """The answers as the browser posts the request form (a ticked checkbox sends "on")."""
    data = {}
    for field in fields:
        name, value = field["name"], answers.get(field["name"])
        if value is None or field["type"] == "hidden":
            continue
        if field["type"] == "checkbox":
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


def main():
    from config.management.commands.seed_bulk import bulk_answers

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    o = parser.parse_args()
    rng = random.Random(7)
    agent = User.objects.filter(username__contains="-agent-").order_by("pk").first()
    busiest = (
        Request.objects.values("requester").annotate(n=Count("pk")).order_by("-n").values_list("requester", "n")
    ).first()
    customer = User.objects.get(pk=busiest[0])
    approver_pk = (
        RequestApproval.objects.filter(decision="pending", approver__role_grants__role="platform_selfservice")
        .values("approver").annotate(n=Count("pk")).order_by("-n").values_list("approver", flat=True).first()
    )  # fmt: skip
    item = CatalogItem.objects.filter(active=True).order_by("pk").first()
    fields = item.form_fields
    desk, portal = Client(), Client()
    desk.force_login(agent)
    portal.force_login(customer)
    open_count = Request.objects.filter(state__in=("submitted", "pending_approval", "approved", "in_fulfilment")).count()
    lines = [
        f"Dataset: {Incident.objects.count():,} incidents, {Request.objects.count():,} requests "
        f"({open_count:,} open), {CatalogItem.objects.count():,} catalog items, "
        f"{RequestApproval.objects.count():,} approval decisions; the customer below raised {busiest[1]:,} "
        f"requests; the form has {len(fields)} fields.",
        "",
        "| What | median ms | p95 ms | target p95 | SQL queries |",
        "|---|---:|---:|---:|---:|",
    ]
    times, queries = timed(lambda: ok(portal.get(reverse("portal:request-list"))), o.runs)
    lines.append(row("Portal My Requests (the busiest customer)", times, queries, 30))
    times, queries = timed(lambda: ok(portal.get(reverse("portal:request-list"), {"state": "completed"})), o.runs)
    lines.append(row("Portal My Requests, `?state=completed`", times, queries, 30))
    times, queries = timed(lambda: ok(portal.get(reverse("portal:home"))), o.runs)
    lines.append(row("Portal home (with the requests summary)", times, queries, "—"))
    times, queries = timed(lambda: ok(desk.get(reverse("desk:request-list"))), o.runs)
    lines.append(row("Desk request queue, first page (open requests)", times, queries, 50))
    times, queries = timed(lambda: ok(desk.get(reverse("desk:request-list"), {"state": "pending_approval"})), o.runs)
    lines.append(row("Desk request queue, waiting for approval", times, queries, 50))
    times, queries = timed(lambda: ok(desk.get("/api/v1/requests/")), o.runs)
    lines.append(row("API request list, first page (`/api/v1/requests/`)", times, queries, 50))
    times, queries = timed(lambda: ok(portal.get("/api/v1/requests/", {"mine": "true"})), o.runs)
    lines.append(row("API `?mine=true` (the busiest customer)", times, queries, 30))
    times, queries = timed(lambda: ok(portal.get("/api/v1/requests/summary/")), o.runs)
    lines.append(row("API requests summary (counts by state)", times, queries, "—"))
    if approver_pk:
        approver = Client()
        approver.force_login(User.objects.get(pk=approver_pk))
        times, queries = timed(lambda: ok(approver.get(reverse("portal:approval-queue"))), o.runs)
        lines.append(row("Portal approval queue (a customer who approves)", times, queries, 30))
    manager = Client()
    manager.force_login(agent)
    times, queries = timed(lambda: ok(manager.get(reverse("portal:approval-queue"))), o.runs)
    lines.append(row("Portal approval queue (an agent: every pending approval)", times, queries, 50))
    mine = Request.objects.filter(requester=customer).order_by("-pk").first()
    times, queries = timed(lambda: ok(portal.get(reverse("portal:request-detail", args=[mine.pk]))), o.runs)
    lines.append(row("Portal request page", times, queries, "—"))
    times, queries = timed(lambda: ok(desk.get(reverse("desk:request-detail", args=[mine.pk]))), o.runs)
    lines.append(row("Desk request page (overview)", times, queries, "—"))

    def raise_in_portal():
        data = {**portal_post(fields, bulk_answers(rng, fields)), "meta-requested_for": customer.pk}
        ok(portal.post(reverse("portal:catalog-item", args=[item.pk]), data), 302)

    times, queries = timed(raise_in_portal, o.runs)
    lines.append(row(f"Raise a request on a {len(fields)}-field form (portal form)", times, queries, 50))

    def raise_in_api():
        body = {"catalog_item": item.pk, "form_data": {
            k: v for k, v in bulk_answers(rng, fields).items()
            if next(f for f in fields if f["name"] == k)["type"] != "hidden"
        }}  # fmt: skip
        ok(portal.post("/api/v1/requests/", json.dumps(body), content_type="application/json"), 201)

    times, queries = timed(raise_in_api, o.runs)
    lines.append(row(f"Raise a request on a {len(fields)}-field form (API)", times, queries, 50))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
