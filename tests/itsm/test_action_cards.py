"""The actions card of every kind's desk record page (``itsm/desk/_actions.html``): an action
that takes input is a closed card holding an ``itsm.forms.Unopened`` stand-in (made from the form
class's ``base_fields``), and ``?open=<action>`` writes out the real form; an action without input
is a plain button either way. Every action of each kind's action table that the card offers is
checked, in a state where an agent or a manager may take it, so a page that builds the forms of
its closed cards, a form whose fields only appear in ``__init__`` (a closed card that would be a
bare button) or one that loses them there (a card that opens to nothing) is caught."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from catalog.actions import ACTIONS as REQUEST_ACTIONS
from catalog.views.desk.base import APPROVAL_ACTIONS
from changes.actions import ACTIONS as CHANGE_ACTIONS
from changes.views.desk.base import PLACED
from incidents.actions import ACTIONS as INCIDENT_ACTIONS
from itsm.actions import ActionTable
from itsm.forms import NoInputForm, Unopened
from itsm.policy.rules import ALL_RULES
from knowledge.actions import ACTIONS as ARTICLE_ACTIONS
from knowledge.views.desk import PAGE_ACTIONS_LEFT_OUT
from problems.actions import ACTIONS as PROBLEM_ACTIONS
from problems.views.desk.base import LINK_ACTIONS
from tests.catalog.factories import make_request
from tests.changes.factories import make_change
from tests.incidents.factories import make_incident
from tests.knowledge.factories import make_article
from tests.problems.factories import make_problem

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Kind:
    table: ActionTable
    noun: str  # desk:<noun>-detail and desk:<noun>-action
    make: Callable  # (agent, customer) -> a record
    elsewhere: frozenset[str] = frozenset()  # actions the page shows outside the actions card


KINDS = {
    "incident": Kind(INCIDENT_ACTIONS, "incident", lambda agent, customer: make_incident(requester=customer)),
    "problem": Kind(
        PROBLEM_ACTIONS, "problem", lambda agent, customer: make_problem(by=agent), frozenset(LINK_ACTIONS)
    ),
    "change": Kind(CHANGE_ACTIONS, "change", lambda agent, customer: make_change(by=agent), PLACED),
    "request": Kind(
        REQUEST_ACTIONS,
        "request",
        lambda agent, customer: make_request(requester=customer),
        frozenset(APPROVAL_ACTIONS),
    ),
    "article": Kind(
        ARTICLE_ACTIONS, "article", lambda agent, customer: make_article(by=agent), PAGE_ACTIONS_LEFT_OUT
    ),
}


def _takes_input(entry) -> bool:
    return bool((entry.form or NoInputForm).base_fields)


def _cases(with_input: bool) -> list:
    return [
        pytest.param(kind, name, id=f"{kind}-{name}")
        for kind, spec in KINDS.items()
        for name, entry in spec.table.items()
        if name not in spec.elsewhere and _takes_input(entry) == with_input
    ]


@dataclass(frozen=True)
class Offer:
    record: object
    user: object
    url: str  # the record's desk page
    post_to: str  # the action's address, as a form's ``action`` attribute


def offered(client, kind: str, name: str, *, agent, manager, customer) -> Offer:
    """A record of ``kind`` in the first of its states where the agent or the manager may take
    ``name`` (the table's answer: the policy and the state), with that person signed in. The
    state is set directly: only the page's rendering is under test, not the way there."""
    spec = KINDS[kind]
    record = spec.make(agent, customer)
    model = type(record)
    for state in ALL_RULES[model._meta.label_lower].states:
        model._base_manager.filter(pk=record.pk).update(state=state)
        record.refresh_from_db()
        for user in (agent, manager):
            if spec.table.allows(user, record, name):
                client.force_login(user)
                return Offer(
                    record=record,
                    user=user,
                    url=reverse(f"desk:{spec.noun}-detail", args=[record.pk]),
                    post_to=f'action="{reverse(f"desk:{spec.noun}-action", args=[record.pk, name])}"',
                )
    raise AssertionError(f"no agent or manager may take {name} on a {kind} in any state")


def card_form(response, name: str):
    """The form the page's actions card holds for ``name``."""
    return next(action["form"] for action in response.context["actions"] if action["name"] == name)


def inputs_of(form) -> list[str]:
    return [f'name="{form[field].html_name}' for field in form.fields]


@pytest.mark.parametrize(("kind", "name"), _cases(with_input=True))
def test_an_action_with_input_is_a_closed_card_that_opens_to_its_real_form(
    client, agent, manager, customer, kind, name
):
    offer = offered(client, kind, name, agent=agent, manager=manager, customer=customer)
    url, post_to = offer.url, offer.post_to
    form_class = KINDS[kind].table[name].form
    form = form_class(prefix=name, user=offer.user, record=offer.record)
    assert form.fields, f"{name}: its form class has fields, the form it builds has none"

    closed = client.get(url)
    assert closed.status_code == 200
    assert isinstance(card_form(closed, name), Unopened)  # the closed card builds no form
    page = closed.content.decode()
    card = re.search(rf'<details class="desk-action" id="action-{name}"[^>]*>', page)
    assert card and " open" not in card.group(0) and f'hx-get="{url}?open={name}"' in card.group(0)
    assert f'href="{url}?open={name}#action-{name}"' in page
    assert post_to not in page
    assert not [html for html in inputs_of(form) if html in page]

    opened = client.get(url, {"open": name})
    assert opened.status_code == 200
    assert isinstance(card_form(opened, name), form_class)
    page = opened.content.decode()
    assert f'<details class="desk-action" id="action-{name}" open>' in page
    assert post_to in page
    assert [html for html in inputs_of(form) if html not in page] == []


@pytest.mark.parametrize(("kind", "name"), _cases(with_input=False))
def test_an_action_without_input_is_a_plain_button_closed_or_opened(
    client, agent, manager, customer, kind, name
):
    offer = offered(client, kind, name, agent=agent, manager=manager, customer=customer)
    button = f'<form method="post" {offer.post_to} class="desk-action desk-action-button" id="action-{name}">'
    for query in ({}, {"open": name}):
        response = client.get(offer.url, query)
        assert response.status_code == 200
        page = response.content.decode()
        assert button in page and f'<details class="desk-action" id="action-{name}"' not in page
