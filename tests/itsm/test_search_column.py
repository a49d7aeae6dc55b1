"""Search at scale (issue #6): ``Work.search_text`` holds the searched text fields lower-cased,
kept in step by every save, so a word search is one indexed column instead of text columns of
two tables joined with OR. It is used only for readers who may read every field it holds; it is
never shown by any door."""

import pytest
from django.db import connection

from incidents import services, workflows
from incidents.models import Incident
from itsm.models import Work

pytestmark = pytest.mark.django_db

URL = "/api/v1/incidents/"


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def printer(customer):
    return services.incident_create(
        actor=customer, data={"short_description": "Printer jams", "description": "Third floor, Tray 2"}
    )


def test_the_search_column_follows_every_save(printer, agent):
    printer = Incident.objects.get(pk=printer.pk)
    assert printer.search_text == f"{printer.number} printer jams third floor, tray 2  ".lower()
    services.incident_update(incident=printer, actor=agent, data={"short_description": "Scanner jams"})
    workflows.incident_resolve(
        incident=Incident.objects.get(pk=printer.pk), actor=agent, resolution_code="resolved",
        resolution_notes="Replaced the Fuser unit",
    )  # fmt: skip
    text = Work.objects.get(pk=printer.pk).search_text
    assert "scanner jams" in text and "printer" not in text and "replaced the fuser unit" in text


def test_an_agents_word_search_reads_the_one_column_and_finds_every_field(
    printer, customer, agent, api, django_assert_max_num_queries
):
    workflows.incident_resolve(
        incident=printer, actor=agent, resolution_code="resolved", resolution_notes="Fuser replaced"
    )
    services.incident_create(actor=customer, data={"short_description": "Mail is down"})
    client = api.as_user(agent)
    with django_assert_max_num_queries(15) as captured:
        assert _ids(client.get(URL, {"search": "FUSER"})) == [printer.pk]  # resolution notes
    searching = [q["sql"].split("WHERE", 1)[1] for q in captured.captured_queries if "LIKE" in q["sql"]]
    assert len(searching) == 2  # the capped count and the page
    assert all("search_text" in where and "resolution_notes" not in where for where in searching)
    assert _ids(client.get(URL, {"search": "tray jams"})) == [printer.pk]  # every word, any field
    assert _ids(client.get(URL, {"search": "tray mail"})) == []
    assert _ids(client.get("/api/v1/work/", {"search": "third floor"})) == [printer.pk]


def test_a_customer_never_searches_the_column_it_may_not_read_all_of(printer, customer, agent, api):
    workflows.incident_resolve(
        incident=printer, actor=agent, resolution_code="resolved", resolution_notes="Fuser replaced"
    )
    client = api.as_user(customer)
    assert _ids(client.get(URL, {"search": "fuser"})) == []  # resolution notes are hidden from it
    assert _ids(client.get(URL, {"search": "printer"})) == [printer.pk]


def test_the_search_column_is_shown_by_no_door(printer, agent, admin_user, api, client):
    assert "search_text" not in api.as_user(agent).get(f"{URL}{printer.pk}/").json()
    assert "search_text" not in api.as_user(agent).get("/api/v1/work/").json()["results"][0]
    client.force_login(admin_user)
    page = client.get(f"/admin/incidents/incident/{printer.pk}/change/").content.decode()
    assert "search_text" not in page and "Search text" not in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_postgresql_has_a_trigram_index_on_the_search_column():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'work_search_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "gin_trgm_ops" in definition


def _where_of_searches(captured):
    return [q["sql"].split("WHERE", 1)[1] for q in captured.captured_queries if "LIKE" in q["sql"]]


def test_the_work_queue_searches_the_column_only_if_every_kinds_fields_are_readable(
    printer, agent, api, monkeypatch, django_assert_max_num_queries
):
    client = api.as_user(agent)
    with django_assert_max_num_queries(15) as captured:
        assert _ids(client.get("/api/v1/work/", {"search": "tray"})) == [printer.pk]
    wheres = _where_of_searches(captured)
    assert wheres and all("search_text" in where for where in wheres)
    # Were an incident's resolution notes hidden from this reader, the Work queue's column
    # (whose incident rows hold them) must not be searched: the plain fields are instead.
    from itsm import policy

    readable = policy.readable_fields
    monkeypatch.setattr(
        policy,
        "readable_fields",
        lambda user, target: (
            readable(user, target) - ({"resolution_notes"} if target in (Incident,) else set())
        ),
    )
    with django_assert_max_num_queries(15) as captured:
        assert _ids(client.get("/api/v1/work/", {"search": "tray"})) == [printer.pk]
    wheres = _where_of_searches(captured)
    assert wheres and all("search_text" not in where for where in wheres)


def test_saving_an_incident_as_plain_work_keeps_its_own_fields_in_the_column(printer, agent):
    workflows.incident_resolve(
        incident=printer, actor=agent, resolution_code="resolved", resolution_notes="Fuser replaced"
    )
    work = Work.objects.get(pk=printer.pk)  # as the Work admin edits it
    work.short_description = "Printer jams again"
    work.save(update_fields=["short_description"])
    text = Work.objects.get(pk=printer.pk).search_text
    assert "printer jams again" in text and "fuser replaced" in text
