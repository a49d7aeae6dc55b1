from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from itsm.models import AuditEntry, User, Work, WorkKind
from itsm.roles import PERSONAS, Persona, effective_roles
from knowledge.models import Article, ArticleFeedback, ArticleState, Audience
from knowledge.selectors import search

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_the_demo_users_and_records_of_each_kind():
    out = StringIO()
    call_command("seed_demo", "--password", "s3cret", stdout=out)
    for username in ["customer", "customer2", "l1", "agent", "lead", "manager", "admin"]:
        assert authenticate(username=username, password="s3cret"), username
        assert username in out.getvalue()
    assert User.objects.get(username="admin").is_superuser
    assert PERSONAS[Persona.L1_AGENT] <= effective_roles(User.objects.get(username="l1"))
    assert PERSONAS[Persona.IT_SERVICE_MANAGER] <= effective_roles(User.objects.get(username="manager"))
    assert effective_roles(User.objects.get(username="customer")) == PERSONAS[Persona.EVERYONE]
    assert set(Work.objects.values_list("kind", flat=True)) == set(WorkKind.values)
    work_created = (
        AuditEntry.objects.filter(action="create")
        .exclude(content_type__app_label="knowledge")
        .exclude(content_type__model__in=["catalogcategory", "catalogitem"])
    )
    assert work_created.count() == Work.objects.count()


def test_seed_demo_makes_a_knowledge_base_customers_can_search_and_a_manager_can_review():
    call_command("seed_demo", stdout=StringIO())
    published = Article.objects.filter(state=ArticleState.PUBLISHED)
    assert published.count() == 12
    assert published.filter(audience=Audience.AGENTS).count() == 1
    assert Article.objects.filter(state=ArticleState.IN_REVIEW).count() == 1
    assert Article.objects.filter(state=ArticleState.DRAFT).count() == 1
    customer = User.objects.get(username="customer")
    assert [hit.article.title for hit in search(customer, "printer jams")][:1] == ["Printer jams on every page"]
    jams = Article.objects.get(title="Printer jams on every page")
    assert (jams.helpful_count, jams.not_helpful_count) == (1, 1)
    assert ArticleFeedback.objects.count() == 5
    assert jams.incidents.get().short_description == "Printer on floor 3 jams every page"


def test_seed_demo_twice_is_harmless():
    call_command("seed_demo", stdout=StringIO())
    counts = (User.objects.count(), Work.objects.count(), AuditEntry.objects.count(), Article.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (User.objects.count(), Work.objects.count(), AuditEntry.objects.count(), Article.objects.count()) == counts
    assert authenticate(username="agent", password="demo")


def test_seed_demo_makes_changes_in_several_states_with_templates_a_window_and_a_freeze(client):
    from changes import schedule
    from changes.models import Change, ChangeFreeze, GovernanceTemplate, MaintenanceWindow

    call_command("seed_demo", stdout=StringIO())
    changes = Change.objects.all()
    assert {"draft", "submitted", "approved", "in_progress", "review", "closed", "rejected"} <= set(
        changes.values_list("state", flat=True)
    )
    assert not changes.filter(risk_score__isnull=True).exists()
    assert GovernanceTemplate.objects.count() == 3
    assert MaintenanceWindow.objects.exists() and ChangeFreeze.objects.count() == 1
    emergency = changes.get(change_type="emergency")
    assert emergency.incident is not None and emergency in emergency.incident.changes_required.all()
    # The demo keeps its own rule: no standard or normal change is planned in the freeze.
    for change in changes.exclude(change_type="emergency"):
        assert schedule.freeze_covering(change.planned_start, change.planned_end) is None, change.number
    # Its desk pages show them: the manager's CAB queue has the submitted one.
    client.force_login(User.objects.get(username="manager"))
    cab = client.get("/desk/changes/cab/")
    assert changes.get(state="submitted").number in cab.content.decode()
    assert client.get("/desk/changes/calendar/").status_code == 200


def test_seed_demo_makes_a_catalog_and_requests_of_customer_in_several_states():
    from catalog.models import CatalogCategory, CatalogItem, Request

    call_command("seed_demo", stdout=StringIO())
    assert CatalogCategory.objects.count() == 2
    assert CatalogItem.objects.count() == 4
    laptop = CatalogItem.objects.get(name="New laptop")
    assert [level.mode for level in laptop.approval_levels.all()] == ["any", "any"]
    assert laptop.task_templates.count() == 2
    assert any(field["condition"] for field in laptop.form_fields)
    customer = User.objects.get(username="customer")
    states = set(Request.objects.filter(requester=customer).values_list("state", flat=True))
    assert {"pending_approval", "in_fulfilment", "completed", "rejected", "cancelled"} <= states
    waiting = Request.objects.get(state="pending_approval")
    assert waiting.approvals.get().approver.username == "manager"
