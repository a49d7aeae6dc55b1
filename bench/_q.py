import sys, json, time, random
from timing import ok  # noqa
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.db.models import Count
from catalog.models import Request, CatalogItem
from itsm.models import User
from config.management.commands.seed_bulk import bulk_answers
agent = User.objects.filter(username__contains="-agent-").order_by("pk").first()
busiest = Request.objects.values("requester").annotate(n=Count("pk")).order_by("-n").values_list("requester", flat=True).first()
customer = User.objects.get(pk=busiest)
c = Client(); c.force_login(customer)
d = Client(); d.force_login(agent)
item = CatalogItem.objects.filter(active=True).order_by("pk").first()
rng = random.Random(1)
def show(label, fn):
    fn(); fn()
    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter(); fn(); total = (time.perf_counter() - t) * 1000
    print(f"== {label}: {total:.1f} ms, {len(ctx.captured_queries)} queries")
    for q in ctx.captured_queries:
        print(f"  {float(q['time'])*1000:6.1f} {q['sql'][:260]}")
which = sys.argv[1]
if which == "queue":
    show("desk queue", lambda: ok(d.get(reverse("desk:request-list"))))
if which == "mine":
    show("my requests", lambda: ok(c.get(reverse("portal:request-list"))))
if which == "raise":
    def raise_api():
        body = {"catalog_item": item.pk, "form_data": {k: v for k, v in bulk_answers(rng, item.form_fields).items() if next(f for f in item.form_fields if f["name"] == k)["type"] != "hidden"}}
        ok(c.post("/api/v1/requests/", json.dumps(body), content_type="application/json"), 201)
    show("raise", raise_api)
if which == "deskpage":
    r = Request.objects.filter(requester=customer).order_by("-pk").first()
    show("desk page", lambda: ok(d.get(reverse("desk:request-detail", args=[r.pk]))))
if which == "profile":
    import cProfile, pstats
    def raise_api():
        body = {"catalog_item": item.pk, "form_data": {k: v for k, v in bulk_answers(rng, item.form_fields).items() if next(f for f in item.form_fields if f["name"] == k)["type"] != "hidden"}}
        ok(c.post("/api/v1/requests/", json.dumps(body), content_type="application/json"), 201)
    raise_api(); raise_api()
    pr = cProfile.Profile(); pr.enable()
    for _ in range(10): raise_api()
    pr.disable()
    st = pstats.Stats(pr); st.sort_stats("cumulative").print_callees("async_task")
if which == "profq":
    import cProfile, pstats
    target = sys.argv[2]
    cl = d if target.startswith("/desk") else c
    ok(cl.get(target)); ok(cl.get(target))
    pr = cProfile.Profile(); pr.enable()
    for _ in range(10): ok(cl.get(target))
    pr.disable()
    st = pstats.Stats(pr); st.sort_stats("tottime").print_stats(12); st.print_callers("get_refs")
