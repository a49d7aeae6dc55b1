"""Impact analysis (SPEC §5, issue 14 item 6): breadth-first over host-group dependencies from
the change's groups to the groups that depend on them, cycles safe; affected hosts, groups,
chains and a risk level, stored on the change with the time."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from changes import impact, services
from itsm.errors import NotFound
from itsm.models import Host, HostGroup, HostGroupDependency
from tests.changes.factories import depends, make_change, make_group, make_hosts

pytestmark = pytest.mark.django_db

SATURDAY = datetime(2027, 1, 9, 10, tzinfo=UTC)


def _change(by, **data):
    return make_change(by=by, planned_start=SATURDAY, planned_end=SATURDAY + timedelta(hours=1), **data)


def test_the_walk_goes_from_a_group_to_those_that_depend_on_it(agent):
    db = make_group("Database", hosts=2)
    app = make_group("App", hosts=3)
    web = make_group("Web", hosts=4)
    unrelated = make_group("Mail", hosts=5)
    depends(app, db)  # the app needs the database
    depends(web, app)  # the web tier needs the app
    depends(db, unrelated)  # the database needs mail: not affected by a database change
    summary = impact.analyse(_change(agent, host_groups=[db]))
    assert [g["name"] for g in summary["groups"]] == ["Database", "App", "Web"]
    assert [g["depth"] for g in summary["groups"]] == [0, 1, 2]
    assert summary["group_count"] == 3
    assert summary["host_count"] == 9
    assert {c["group"]: c["path"] for c in summary["chains"]} == {
        app.pk: ["Database", "App"],
        web.pk: ["Database", "App", "Web"],
    }


def test_cycles_are_walked_once(agent):
    a, b, c = make_group("A", hosts=1), make_group("B", hosts=1), make_group("C", hosts=1)
    depends(b, a)
    depends(c, b)
    depends(a, c)  # a cycle back to the start
    summary = impact.analyse(_change(agent, host_groups=[a]))
    assert summary["group_count"] == 3 and summary["host_count"] == 3
    assert [c["path"] for c in summary["chains"]] == [["A", "B"], ["A", "B", "C"]]


def test_a_chain_is_the_shortest_path_from_a_changed_group(agent):
    a, b, c, d = (make_group(n) for n in "ABCD")
    depends(b, a)
    depends(c, b)
    depends(d, c)
    depends(d, a)  # D also needs A directly
    summary = impact.analyse(_change(agent, host_groups=[a]))
    assert {c["group"]: c["path"] for c in summary["chains"]}[d.pk] == ["A", "D"]


def test_the_groups_of_the_changes_hosts_are_starting_points(agent):
    db = make_group("Database")
    app = make_group("App", hosts=2)
    depends(app, db)
    host = make_hosts(1, prefix="db", group=db)
    summary = impact.analyse(_change(agent, hosts=host))
    assert summary["changed_groups"] == [db.pk]
    assert summary["host_count"] == 3  # the named host and the app's two


def test_a_change_without_groups_or_hosts_affects_nothing(agent):
    summary = impact.analyse(_change(agent))
    assert (summary["group_count"], summary["host_count"], summary["chains"], summary["groups"]) == (0, 0, [], [])
    assert summary["risk_level"] == "low"


def test_the_risk_level_counts_every_affected_group_and_host(agent):
    db = make_group("Database", tier="medium", hosts=1)
    shop = make_group("Shop", tier="critical", hosts=60)
    depends(shop, db)
    change = _change(agent, host_groups=[db])
    assert change.risk_level == "low"  # 1 host, medium: 1 × 2
    summary = impact.analyse(change)
    # 61 affected hosts → 5, critical +2 → clamped 5; normal 2 → 10: high.
    assert (summary["impact"], summary["likelihood"], summary["risk_level"]) == (5, 2, "high")


def test_the_host_list_is_capped_but_the_count_is_exact(agent):
    group = make_group("Fleet", hosts=impact.HOST_LIST_MAX + 20)
    summary = impact.analyse(_change(agent, host_groups=[group]))
    assert summary["host_count"] == impact.HOST_LIST_MAX + 20
    assert len(summary["hosts"]) == impact.HOST_LIST_MAX and summary["hosts_truncated"] is True


def test_computing_the_impact_stores_it_with_the_time_and_journals_it(agent):
    db, app = make_group("Database", hosts=1), make_group("App", hosts=1)
    depends(app, db)
    change = _change(agent, host_groups=[db])
    version = change.version
    change = services.change_compute_impact(change=change, actor=agent)
    assert change.impact_summary["group_count"] == 2 and change.impact_computed_at is not None
    assert change.version == version  # nothing the agent typed changed
    from itsm.models import AuditEntry

    assert AuditEntry.objects.filter(object_id=str(change.pk), field="impact_computed_at").exists()
    assert not AuditEntry.objects.filter(object_id=str(change.pk), field="impact_summary").exists()


def test_a_self_service_user_cannot_compute_the_impact(agent, customer):
    with pytest.raises(NotFound):
        services.change_compute_impact(change=_change(agent), actor=customer)


def test_the_analysis_is_a_fixed_number_of_queries(agent, django_assert_max_num_queries):
    groups = [make_group(f"G{n}", hosts=2) for n in range(30)]
    for n in range(1, 30):
        depends(groups[n], groups[n - 1])
    change = _change(agent, host_groups=[groups[0]])
    with django_assert_max_num_queries(6):
        summary = impact.analyse(change)
    assert summary["group_count"] == 30


def test_two_thousand_groups_and_ten_thousand_edges_take_under_200_ms(agent):
    HostGroup.objects.bulk_create([HostGroup(name=f"g{n:04d}", service_tier="medium") for n in range(2000)])
    ids = list(HostGroup.objects.order_by("pk").values_list("pk", flat=True))
    Host.objects.bulk_create([Host(hostname=f"h{n:05d}", host_group_id=ids[n % 2000]) for n in range(4000)])
    rng = random.Random(14)
    edges = set()
    while len(edges) < 10_000:
        a, b = rng.sample(ids, 2)
        edges.add((a, b))
    HostGroupDependency.objects.bulk_create([HostGroupDependency(dependent_id=a, depends_on_id=b) for a, b in edges])
    change = _change(agent)
    change.host_groups.set(ids[:5])
    took = []
    for _ in range(3):  # the best of three: the machine is shared, the figure is the steady one
        begun = time.perf_counter()
        summary = impact.analyse(change)
        took.append(time.perf_counter() - begun)
    assert summary["group_count"] > 1000  # a random graph of this density reaches most groups
    assert min(took) < 0.2, f"impact analysis took {min(took) * 1000:.0f} ms"
