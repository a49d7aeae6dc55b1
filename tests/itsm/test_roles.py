"""SPEC §3: which roles include which, the persona bundles of seed 004, and effective roles."""

import pytest
from django.contrib.auth.models import AnonymousUser

from conftest import make_user
from incidents.models import Incident
from itsm import policy
from itsm.models import Host, User, UserRole, Work
from itsm.roles import PERSONAS, Persona, closure, effective_roles, forget_roles, minimal

pytestmark = pytest.mark.django_db

EVERY_ROLE = {
    "platform_selfservice",
    "platform_agent",
    "itsm_agent",
    "itsm_manager",
    "itsm_administrator",
    "knowledge_editor",
    "knowledge_manager",
    "cmdb_viewer",
    "cmdb_manager",
    "cmdb_administrator",
    "application_administrator",
}


# --- Inclusion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("granted", "effective"),
    [
        (
            "itsm_administrator",
            {"itsm_administrator", "itsm_manager", "itsm_agent", "platform_agent", "platform_selfservice"},
        ),
        ("itsm_manager", {"itsm_manager", "itsm_agent", "platform_agent", "platform_selfservice"}),
        ("itsm_agent", {"itsm_agent", "platform_agent", "platform_selfservice"}),
        ("platform_agent", {"platform_agent", "platform_selfservice"}),
        ("platform_selfservice", {"platform_selfservice"}),
        ("knowledge_manager", {"knowledge_manager", "knowledge_editor"}),
        ("knowledge_editor", {"knowledge_editor"}),
        ("cmdb_administrator", {"cmdb_administrator", "cmdb_manager", "cmdb_viewer"}),
        ("cmdb_manager", {"cmdb_manager", "cmdb_viewer"}),
        ("cmdb_viewer", {"cmdb_viewer"}),
        ("application_administrator", {"application_administrator"}),
    ],
)
def test_granting_a_role_grants_exactly_the_roles_it_includes(granted, effective):
    assert closure([granted]) == effective
    user = make_user(f"holder-{granted}", granted)
    assert effective_roles(user) == effective


def test_inclusion_never_goes_upwards_or_across_families():
    assert "itsm_agent" not in closure(["platform_agent"])
    assert "itsm_administrator" not in closure(["itsm_manager"])
    assert "knowledge_manager" not in closure(["knowledge_editor"])
    assert "cmdb_manager" not in closure(["cmdb_viewer"])
    assert not closure(["itsm_administrator"]) & {"knowledge_editor", "cmdb_viewer"}
    assert not closure(["cmdb_administrator"]) & {"itsm_agent", "platform_selfservice"}


def test_minimal_drops_roles_already_included_by_another():
    assert minimal(PERSONAS[Persona.IT_SERVICE_MANAGER]) == {
        "itsm_administrator",
        "knowledge_manager",
        "cmdb_administrator",
        "application_administrator",
    }
    assert minimal(PERSONAS[Persona.L1_AGENT]) == {"itsm_agent", "cmdb_viewer"}


def test_included_role_gives_its_powers_cmdb_administrator_reads_hosts_as_a_viewer_would():
    cmdb_admin = make_user("cmdbadmin", "cmdb_administrator")
    assert policy.can(cmdb_admin, "read", Host)
    assert policy.can(cmdb_admin, "create", Host)
    assert policy.can(cmdb_admin, "delete", Host)
    itsm_admin = make_user("itsmadmin", "itsm_administrator")
    assert policy.has_permission(itsm_admin, "incidents.manage")  # held by itsm_agent
    assert policy.can(itsm_admin, "create", Incident)  # platform_selfservice


# --- Personas (seed 004 "Recommended role allocation", written out) ----------------------------


def test_it_service_manager_persona_has_the_roles_of_seed_004():
    assert PERSONAS[Persona.IT_SERVICE_MANAGER] == {
        "knowledge_manager",
        "knowledge_editor",
        "itsm_administrator",
        "itsm_manager",
        "itsm_agent",
        "application_administrator",
        "cmdb_administrator",
        "cmdb_manager",
        "cmdb_viewer",
        "platform_selfservice",
        "platform_agent",
    }


def test_service_desk_team_leader_persona_has_the_roles_of_seed_004():
    assert PERSONAS[Persona.TEAM_LEADER] == {
        "knowledge_editor",
        "platform_selfservice",
        "platform_agent",
        "itsm_manager",
        "itsm_agent",
        "cmdb_manager",
        "cmdb_viewer",
    }


def test_level_2_3_agent_persona_has_the_roles_of_seed_004():
    assert PERSONAS[Persona.L2_AGENT] == {
        "knowledge_editor",
        "platform_agent",
        "platform_selfservice",
        "cmdb_manager",
        "cmdb_viewer",
        "itsm_agent",
    }


def test_level_1_agent_persona_has_the_roles_of_seed_004():
    assert PERSONAS[Persona.L1_AGENT] == {
        "platform_selfservice",
        "platform_agent",
        "itsm_agent",
        "cmdb_viewer",
    }


def test_any_other_user_persona_has_only_platform_selfservice():
    assert PERSONAS[Persona.EVERYONE] == {"platform_selfservice"}


def test_there_are_exactly_five_personas():
    assert set(PERSONAS) == {
        "it_service_manager",
        "team_leader",
        "l2_agent",
        "l1_agent",
        "everyone",
    }


def test_persona_fixtures_hold_their_persona_effective_roles(customer, l1, agent, lead, manager):
    assert effective_roles(customer) == {"platform_selfservice"}
    assert effective_roles(l1) == {"platform_selfservice", "platform_agent", "itsm_agent", "cmdb_viewer"}
    assert effective_roles(agent) == {
        "knowledge_editor",
        "platform_agent",
        "platform_selfservice",
        "cmdb_manager",
        "cmdb_viewer",
        "itsm_agent",
    }
    assert effective_roles(lead) == {
        "knowledge_editor",
        "platform_selfservice",
        "platform_agent",
        "itsm_manager",
        "itsm_agent",
        "cmdb_manager",
        "cmdb_viewer",
    }
    assert effective_roles(manager) == EVERY_ROLE


# --- Superuser, inactive and anonymous users --------------------------------------------------


def test_superuser_holds_every_role_without_any_grant(admin_user):
    assert not UserRole.objects.filter(user=admin_user).exists()
    assert effective_roles(admin_user) == EVERY_ROLE
    assert policy.can(admin_user, "delete", Incident)
    assert policy.can(admin_user, "create", Work)
    assert policy.has_permission(admin_user, "itsm.configure")


def test_inactive_user_holds_no_role_whatever_it_was_granted():
    user = make_user("gone", "itsm_administrator")
    user.is_active = False
    user.save()
    user = User.objects.get(pk=user.pk)
    assert effective_roles(user) == frozenset()
    assert not policy.can(user, "read", Incident)


def test_anonymous_user_holds_no_role():
    assert effective_roles(AnonymousUser()) == frozenset()
    assert effective_roles(None) == frozenset()
    assert not policy.can(AnonymousUser(), "create", Incident)


# --- Computed once per user object ------------------------------------------------------------


def test_effective_roles_are_read_with_one_query_per_user_object(agent, django_assert_num_queries):
    user = User.objects.get(pk=agent.pk)  # a fresh object, as request.user is on each request
    with django_assert_num_queries(1):
        assert "itsm_agent" in effective_roles(user)
        effective_roles(user)
        assert policy.can(user, "read", Incident)
        assert policy.can(user, "create", Incident)
        assert not policy.can(user, "delete", Incident)
        assert policy.has_permission(user, "incidents.manage")
        assert not policy.has_permission(user, "changes.approve")
        assert policy.hidden_fields(user, Incident) == frozenset()
        assert "priority" in policy.writable_fields(user, Incident)
        effective_roles(user)


def test_another_object_for_the_same_user_reads_its_roles_again(agent, django_assert_num_queries):
    first = User.objects.get(pk=agent.pk)
    second = User.objects.get(pk=agent.pk)
    with django_assert_num_queries(2):
        effective_roles(first)
        effective_roles(second)
        effective_roles(first)
        effective_roles(second)


def test_forget_roles_makes_a_new_grant_count(l1):
    user = User.objects.get(pk=l1.pk)
    assert not policy.can(user, "delete", Incident)
    UserRole.objects.create(user=user, role="itsm_administrator")
    forget_roles(user)
    assert policy.can(user, "delete", Incident)
    assert effective_roles(user) == {
        "platform_selfservice",
        "platform_agent",
        "itsm_agent",
        "cmdb_viewer",
        "itsm_manager",
        "itsm_administrator",
    }


def test_forget_roles_makes_a_revoked_grant_stop_counting(manager):
    user = User.objects.get(pk=manager.pk)
    assert policy.can(user, "delete", Incident)
    UserRole.objects.filter(user=user, role="itsm_administrator").delete()
    forget_roles(user)
    assert not policy.can(user, "delete", Incident)
    assert "itsm_manager" in effective_roles(user)


def test_forget_roles_on_a_user_never_read_is_harmless(customer):
    forget_roles(customer)
    forget_roles(customer)
    assert effective_roles(customer) == {"platform_selfservice"}
