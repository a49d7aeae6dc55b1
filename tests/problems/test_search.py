"""The known error database search (``problems.selectors.known_errors``): known errors only,
what the reader may read, every word somewhere in title, symptoms, root cause or workaround,
best first, with an escaped snippet whose matches are marked. PostgreSQL adds stemming and
weighted ranking, served by GIN indexes."""

import pytest
from django.db import connection

from itsm.services import record_update
from problems import selectors
from tests.problems.known_error_factories import make_known_error

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL full text (run with DATABASE_URL=postgres://…)"
)


def numbers(hits):
    return [hit.problem.number for hit in hits]


def test_search_finds_known_errors_by_title_symptoms_root_cause_or_workaround(agent):
    title = make_known_error(by=agent, short_description="Printer jam on floor two")
    symptoms = make_known_error(by=agent, short_description="Paper", symptoms="The printer shows a jam light")
    cause = make_known_error(
        by=agent, short_description="Toner", root_cause="Worn printer roller causes a jam"
    )
    workaround = make_known_error(
        by=agent, short_description="Tray", workaround="Clear the printer jam by hand"
    )
    found = set(numbers(selectors.known_errors(agent, "printer jam")))
    assert found == {title.number, symptoms.number, cause.number, workaround.number}


def test_search_needs_every_word_somewhere_in_the_known_error(agent):
    both = make_known_error(by=agent, short_description="Printer offline", workaround="Clear the jam")
    make_known_error(by=agent, short_description="Printer offline", workaround="Restart the spooler")
    assert numbers(selectors.known_errors(agent, "printer jam")) == [both.number]


def test_problems_that_are_not_known_errors_are_not_in_the_database(agent):
    make_known_error(by=agent, short_description="Printer jam", known=False)
    assert selectors.known_errors(agent, "printer") == []


def test_self_service_users_find_nothing(agent, customer):
    make_known_error(by=agent, short_description="Printer jam")
    assert selectors.known_errors(customer, "printer") == []
    assert selectors.known_errors(customer) == []


def test_without_words_every_known_error_is_listed_newest_first(agent):
    older = make_known_error(by=agent, short_description="VPN drops")
    newer = make_known_error(by=agent, short_description="Printer jam")
    assert numbers(selectors.known_errors(agent, "  ")) == [newer.number, older.number]


def test_more_fields_matching_ranks_higher(agent):
    one = make_known_error(by=agent, short_description="Network slow", workaround="Reboot the printer")
    three = make_known_error(
        by=agent, short_description="Printer offline", symptoms="printer dark", workaround="printer reset"
    )
    assert numbers(selectors.known_errors(agent, "printer")) == [three.number, one.number]


def test_snippet_marks_the_matches_and_escapes_the_rest(agent):
    make_known_error(
        by=agent, short_description="Spooler", symptoms="The printer <script>alert(1)</script> & stops"
    )
    [hit] = selectors.known_errors(agent, "printer")
    assert "<mark>printer</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&amp;" in hit.snippet
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_a_search_with_only_punctuation_or_stop_words_lists_everything(agent):
    ke = make_known_error(by=agent, short_description="Printer jam")
    assert numbers(selectors.known_errors(agent, "the ; %% _")) == [ke.number]


def test_search_is_limited(agent):
    for i in range(4):
        make_known_error(by=agent, short_description=f"Printer jam {i}")
    assert len(selectors.known_errors(agent, "printer", limit=3)) == 3


@pytest.mark.postgres
@postgres_only
def test_postgres_search_is_stemmed(agent):
    ke = make_known_error(
        by=agent, short_description="Printers jammed", symptoms="Jamming printers everywhere"
    )
    assert numbers(selectors.known_errors(agent, "printer jam")) == [ke.number]


@pytest.mark.postgres
@postgres_only
def test_postgres_ranks_title_above_symptoms_above_workaround(agent):
    in_workaround = make_known_error(by=agent, short_description="Spooler", workaround="the printer again")
    in_title = make_known_error(by=agent, short_description="Printer stuck")
    in_symptoms = make_known_error(by=agent, short_description="Spooler", symptoms="the printer again")
    hits = selectors.known_errors(agent, "printer")
    assert numbers(hits) == [in_title.number, in_symptoms.number, in_workaround.number]
    assert hits[0].rank > hits[1].rank > hits[2].rank


@pytest.mark.postgres
@postgres_only
def test_postgres_snippet_is_a_highlighted_headline(agent):
    make_known_error(
        by=agent, short_description="Spooler", symptoms="Users say the printers <b>jam</b> & stall"
    )
    [hit] = selectors.known_errors(agent, "printer")
    assert "<mark>printers</mark>" in hit.snippet
    assert "<b>" not in hit.snippet


@pytest.mark.postgres
@postgres_only
def test_postgres_known_errors_are_searched_through_a_gin_index_on_the_stored_document(agent):
    # With a handful of rows the planner scans them all; the plan at scale is in
    # bench/problems_at_scale.py and docs/PERFORMANCE.md.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'problem_kedb_vector'")
        [(definition,)] = cursor.fetchall()
    assert "USING gin (search_vector) WHERE is_known_error" in definition


@pytest.mark.postgres
@postgres_only
def test_postgres_an_edited_known_error_is_found_by_its_new_words_only(agent):
    ke = make_known_error(by=agent, short_description="Printer jam", workaround="Open the tray")
    record_update(
        obj=ke, actor=agent, data={"short_description": "Scanner stuck", "workaround": "Reseat the lid"}
    )
    assert selectors.known_errors(agent, "printer") == []
    assert selectors.known_errors(agent, "tray") == []
    assert numbers(selectors.known_errors(agent, "scanner")) == [ke.number]
    assert numbers(selectors.known_errors(agent, "lid")) == [ke.number]


@pytest.mark.postgres
@postgres_only
def test_postgres_a_partial_save_of_one_field_keeps_the_others_searchable(agent):
    ke = make_known_error(by=agent, short_description="Printer jam", symptoms="Paper creases")
    ke.symptoms = "Toner smears"
    ke.save(update_fields=["symptoms"])
    assert numbers(selectors.known_errors(agent, "printer toner")) == [ke.number]
    assert selectors.known_errors(agent, "creases") == []
