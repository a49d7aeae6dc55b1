"""``manage.py seed_bulk`` (issue #6): realistic history for measuring at scale — every state,
priority and source, notes, time entries, SLA clocks and a share of open work, nothing dated
after now, and numbers that the desk carries on from."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents import services
from incidents.models import Incident, IncidentNote, TimeEntry
from itsm.models import User, Work
from sla.models import ClockState, SlaClock, SlaClockEvent

pytestmark = pytest.mark.django_db

SMALL = {"organisations": 3, "agents": 12, "customers": 40, "groups": 4, "hosts": 20}


@pytest.fixture
def seeded():
    out = StringIO()
    call_command("seed_bulk", incidents=1500, open_share=0.3, stdout=out, **SMALL)
    return out.getvalue()


def test_it_makes_every_state_priority_and_source_with_a_share_of_open_work(seeded):
    incidents = Incident.objects.all()
    assert incidents.count() == 1500
    assert set(incidents.values_list("state", flat=True)) == {
        "new", "in_progress", "on_hold", "resolved", "closed", "cancelled",
    }  # fmt: skip
    assert set(incidents.values_list("priority", flat=True)) == {"P1", "P2", "P3", "P4"}
    assert set(incidents.values_list("source", flat=True)) == {"manual", "alert", "event", "storm"}
    open_share = incidents.filter(state__in=("new", "in_progress", "on_hold")).count() / 1500
    assert 0.2 < open_share < 0.4


def test_every_incident_has_notes_and_sla_clocks_and_some_have_time(seeded):
    assert not Incident.objects.filter(notes__isnull=True).exists()
    assert not Work.objects.filter(kind="incident", sla_clocks__isnull=True).exists()
    assert TimeEntry.objects.exists()
    assert SlaClockEvent.objects.exists()
    open_ids = Incident.objects.filter(state__in=("new", "in_progress")).values("pk")
    assert SlaClock.objects.filter(work__in=open_ids, state=ClockState.RUNNING).exists()


def test_nothing_is_dated_after_now(seeded):
    now = timezone.now()
    assert not Work.objects.filter(opened_at__gt=now).exists()
    assert not Work.objects.filter(updated_at__gt=now).exists()
    assert not Incident.objects.filter(acknowledged_at__gt=now).exists()
    assert not IncidentNote.objects.filter(created_at__gt=now).exists()


def test_it_reports_progress_and_the_desk_numbers_on_after_it(seeded, customer):
    assert "1,500/1,500 incidents" in seeded
    highest = max(int(n[3:]) for n in Incident.objects.values_list("number", flat=True))
    new = services.incident_create(actor=customer, data={"short_description": "After the load"})
    assert new.number == f"INC{highest + 1:07d}"


def test_bulk_agents_can_sign_in_with_the_documented_password(seeded, client):
    agent = User.objects.filter(username__contains="-agent-").first()
    assert client.login(username=agent.username, password="bulk")


def test_bad_options_are_refused_with_a_message():
    with pytest.raises(CommandError, match="open-share"):
        call_command("seed_bulk", incidents=10, open_share=2, stdout=StringIO())


def test_the_connection_keeps_its_foreign_key_checks_after_the_load(seeded):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("session settings are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_the_search_column_is_filled_as_a_save_would_fill_it(seeded):
    for incident in Incident.objects.order_by("?")[:50]:
        assert incident.search_text == incident.search_document()


def test_about_two_percent_of_incidents_get_a_problem_and_a_third_of_those_are_known_errors(seeded):
    from problems.models import Problem

    problems = Problem.objects.all()
    assert problems.count() == 30  # 2 % of 1,500
    assert all(number.startswith("PRB") for number in problems.values_list("number", flat=True))
    known = problems.filter(is_known_error=True)
    assert 4 <= known.count() <= 18
    assert not known.filter(workaround="").exists()
    assert not known.filter(symptoms="").exists()
    assert not known.filter(root_cause="").exists()
    assert not problems.filter(incidents__isnull=True).exists()


def test_problem_counters_are_exact_for_the_linked_incidents(seeded):
    from django.db.models import Count

    from problems.models import Problem

    for problem in Problem.objects.annotate(
        linked=Count("incidents", distinct=True), hosts_hit=Count("incidents__hosts", distinct=True)
    ):
        assert problem.incident_count == problem.linked
        assert problem.affected_host_count == problem.hosts_hit
        assert problem.affected_host_count >= 1


def test_problem_search_column_is_filled_as_a_save_would_fill_it(seeded):
    from problems.models import Problem

    for problem in Problem.objects.all():
        assert problem.search_text == problem.search_document()


# --- knowledge (issue 16) ----------------------------------------------------------------------


def test_it_makes_articles_in_every_state_with_versions_votes_and_links(seeded, customer):
    from knowledge import selectors
    from knowledge.markdown import render
    from knowledge.models import Article, ArticleFeedback, ArticleVersion

    articles = Article.objects.all()
    assert articles.count() == 75  # 5 % of the incidents by default
    assert {"draft", "published"} <= set(articles.values_list("state", flat=True))
    assert set(articles.values_list("audience", flat=True)) == {"everyone", "agents"}
    assert Article.objects.filter(number="KB0000075").exists()
    for article in articles[:20]:
        assert article.body_html == render(article.body)  # what a save would have rendered
        assert ArticleVersion.objects.filter(article=article).count() == article.published_version
    for article in articles.filter(state="published"):
        votes = ArticleFeedback.objects.filter(article=article)
        assert article.helpful_count == votes.filter(helpful=True).count()
        assert article.not_helpful_count == votes.filter(helpful=False).count()
    assert selectors.search(customer, "restart")  # found through the product's own search


def test_articles_can_be_asked_for_by_number():
    call_command("seed_bulk", incidents=0, articles=30, stdout=StringIO(), **SMALL)
    from knowledge.models import Article

    assert Article.objects.count() == 30
