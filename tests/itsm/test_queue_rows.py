"""The queue rows written in Python (``itsm.views.queue_rows``): what the template wrote, escaped,
with each row's link, and the "Take" form with the page's CSRF token."""

import re
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from incidents.models import Incident
from itsm.views.queue_rows import Rows, address_of, when
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db

LIST = reverse("desk:incident-list")


def test_a_queue_row_escapes_what_people_typed(client, agent, customer):
    incident = make_incident(requester=customer, short_description='<script>alert("x")</script> & co')
    client.force_login(agent)
    html = client.get(LIST).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    link = reverse("desk:incident-detail", args=[incident.pk])
    assert f'<td class="nowrap mono"><a href="{link}">{incident.number}</a></td>' in html


def test_each_row_links_to_its_own_record_and_shows_a_dash_for_no_one(client, agent, customer):
    first, second = make_incident(requester=customer), make_incident(requester=customer)
    client.force_login(agent)
    rows = client.get(LIST).context["rows"]
    for incident in (first, second):
        [row] = [row for row in rows if f">{incident.number}<" in row]
        assert f'href="{reverse("desk:incident-detail", args=[incident.pk])}"' in row
        assert row.count('<td><span class="muted">—</span></td>') == 3  # no SLA clock, no group, nobody assigned


def test_the_take_form_posts_to_the_row_with_the_csrf_token_and_comes_back(agent, customer):
    incident = make_incident(requester=customer)
    request = RequestFactory().get(LIST + "?priority=3")
    request.user = agent
    incident.take_offered = True
    take = {"take_any": True, "take_url": "desk:incident-assign-to-me", "take_next": request.get_full_path()}
    columns = [{"name": "number"}]
    [row] = Rows(request, columns=columns, detail="desk:incident-detail", take=take)([incident])
    action = reverse("desk:incident-assign-to-me", args=[incident.pk])
    assert f'<form method="post" action="{action}" class="inline-form assign-to-me">' in row
    assert re.search(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{32,}"', row)
    assert '<input type="hidden" name="next" value="/desk/incidents/?priority=3">' in row
    assert f'aria-label="Take: {incident.number}"' in row


def test_an_address_is_reversed_once_and_filled_in_per_record():
    detail = address_of("desk:incident-detail")
    assert detail(5) == reverse("desk:incident-detail", args=[5])
    assert detail(1234567) == reverse("desk:incident-detail", args=[1234567])


def test_a_row_writes_dates_as_the_templates_date_filter_does(settings):
    settings.TIME_ZONE = "Europe/Paris"
    value = datetime(2026, 3, 5, 23, 7, tzinfo=UTC)  # 6 March, 00:07 in Paris
    with timezone.override("Europe/Paris"):
        expected = Template('{{ v|date:"j M Y" }}|{{ v|date:"H:i" }}|{{ v|date:"c" }}').render(Context({"v": value}))
        written = when(value)
    date, time, iso = expected.split("|")
    assert written == (
        f'<time datetime="{iso}"><span class="when">{date}</span> <span class="when">{time}</span></time>'
    )
    assert date == "6 Mar 2026" and time == "00:07"


def test_a_column_without_a_cell_of_its_own_shows_its_value(agent, customer):
    incident = make_incident(requester=customer)
    Incident.objects.filter(pk=incident.pk).update(category="Hardware & <co>")
    incident.refresh_from_db()
    request = RequestFactory().get(LIST)
    request.user = agent
    [row] = Rows(request, columns=[{"name": "category"}, {"name": "organisation"}], detail="desk:incident-detail")([incident])
    assert row == f"<tr><td>Hardware &amp; &lt;co&gt;</td><td>{incident.organisation}</td></tr>"
