"""The knowledge API (issue 16, SPEC §7): ``/api/v1/articles/`` with ``?search=``,
``articles/suggest/?text=``, the actions, feedback, versions and diffs, and
``/api/v1/incidents/{id}/promote-to-knowledge/``; what each role may read and do through it."""

from __future__ import annotations

import pytest

from incidents import workflows as incident_workflows
from knowledge.models import Article, ArticleState, Audience
from tests.incidents.factories import make_incident
from tests.knowledge.factories import make_article, published_article, revised_article

pytestmark = pytest.mark.django_db
URL = "/api/v1/articles/"
S = ArticleState


def _post(api, user, path, data=None):
    return api.as_user(user).post(f"{URL}{path}", data or {}, format="json")


def _get(api, user, path="", **params):
    return api.as_user(user).get(f"{URL}{path}", params)


def test_editor_writes_submits_and_a_manager_publishes_through_the_api(api, agent, manager):
    r = _post(api, agent, "", {"title": "VPN drops", "body": "Reconnect **twice**.", "audience": "everyone"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["number"] == "KB0000001" and body["state"] == "draft" and body["author"] == agent.pk
    assert body["body_html"] == "<p>Reconnect <strong>twice</strong>.</p>"
    pk = body["id"]
    assert _post(api, agent, f"{pk}/submit/").json()["state"] == "in_review"
    assert _post(api, agent, f"{pk}/publish/").status_code == 403
    r = _post(api, manager, f"{pk}/publish/")
    assert r.status_code == 200 and r.json()["state"] == "published" and r.json()["published_version"] == 1
    assert _post(api, manager, f"{pk}/retire/").json()["state"] == "retired"


def test_a_transition_the_state_forbids_is_a_400_naming_the_state(api, agent, manager):
    article = make_article(by=agent)
    r = _post(api, manager, f"{article.pk}/publish/")
    assert r.status_code == 400 and r.json()["state"] == ["draft"]


def test_a_stale_edit_is_a_409(api, agent):
    article = make_article(by=agent)
    client = api.as_user(agent)
    assert client.patch(f"{URL}{article.pk}/", {"title": "B"}, format="json", HTTP_IF_MATCH="1").status_code == 200
    r = client.patch(f"{URL}{article.pk}/", {"title": "C"}, format="json", HTTP_IF_MATCH="1")
    assert r.status_code == 409 and "version" in r.json()


@pytest.mark.parametrize("field", ["state", "body_html", "helpful_count", "published_version", "version"])
def test_computed_fields_are_refused_by_name(api, agent, field):
    article = make_article(by=agent)
    r = api.as_user(agent).patch(f"{URL}{article.pk}/", {field: "x"}, format="json")
    assert r.status_code == 400 and field in r.json()


def test_a_customer_reads_only_published_articles_for_everyone_and_404_otherwise(api, agent, manager, customer):
    public = published_article(by=agent, publisher=manager, title="Public")
    agents_only = published_article(by=agent, publisher=manager, title="Internal", audience=Audience.AGENTS)
    draft = make_article(by=agent, title="Draft")
    retired = make_article(by=agent, publisher=manager, title="Old", state=S.RETIRED)
    r = _get(api, customer)
    assert [a["title"] for a in r.json()["results"]] == ["Public"]
    for article in (agents_only, draft, retired):
        assert _get(api, customer, f"{article.pk}/").status_code == 404
        assert _post(api, customer, f"{article.pk}/feedback/", {"helpful": True}).status_code == 404
    body = _get(api, customer, f"{public.pk}/").json()
    for hidden in ("author", "owner", "published_by", "review_notes", "source_incident", "incidents",
                   "revision_of", "submitted_at"):  # fmt: skip
        assert hidden not in body
    assert "body_html" in body


def test_customers_cannot_filter_or_order_on_what_they_do_not_read(api, agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Public")
    r = _get(api, customer, author=agent.pk)
    assert [a["title"] for a in r.json()["results"]] == ["Public"]  # the filter is not there for them


def test_an_agent_reads_published_articles_of_both_audiences_and_no_draft(api, agent, manager, l1):
    published_article(by=agent, publisher=manager, title="Public")
    published_article(by=agent, publisher=manager, title="Internal", audience=Audience.AGENTS)
    draft = make_article(by=agent, title="Draft")
    assert sorted(a["title"] for a in _get(api, l1).json()["results"]) == ["Internal", "Public"]
    assert _get(api, l1, f"{draft.pk}/").status_code == 404


def test_search_finds_only_published_readable_articles_with_rank_and_snippet(api, agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Printer offline", body="Check the printer cable.")
    published_article(by=agent, publisher=manager, title="Printer internal", audience=Audience.AGENTS)
    make_article(by=agent, title="Printer draft")
    r = _get(api, customer, search="printer")
    assert r.status_code == 200
    [hit] = r.json()["results"]
    assert hit["title"] == "Printer offline" and hit["rank"] > 0 and "<mark>" in hit["snippet"].lower()
    assert sorted(a["title"] for a in _get(api, agent, search="printer").json()["results"]) == [
        "Printer internal", "Printer offline",
    ]  # fmt: skip


def test_suggest_answers_the_best_matches_for_free_text(api, agent, manager, customer):
    published_article(by=agent, publisher=manager, title="Outlook crashes on start", body="Safe mode.")
    published_article(by=agent, publisher=manager, title="Outlook internal", audience=Audience.AGENTS)
    r = _get(api, customer, "suggest/", text="my outlook crashes every morning")
    assert r.status_code == 200
    assert [hit["title"] for hit in r.json()["results"]] == ["Outlook crashes on start"]
    assert _get(api, customer, "suggest/").json() == {"results": []}
    assert "limit" in _get(api, customer, "suggest/", text="outlook", limit=0).json()


def test_feedback_through_the_api_one_vote_each_and_comments_for_editors_only(
    api, agent, manager, customer, customer2
):
    article = published_article(by=agent, publisher=manager)
    r = _post(api, customer, f"{article.pk}/feedback/", {"helpful": True, "comment": "Worked for me"})
    assert r.status_code == 200, r.content
    assert "comment" not in r.json() and r.json()["helpful_count"] == 1
    r = _post(api, customer, f"{article.pk}/feedback/", {"helpful": False})
    assert (r.json()["helpful_count"], r.json()["not_helpful_count"]) == (0, 1)
    _post(api, customer2, f"{article.pk}/feedback/", {"helpful": True, "comment": "Great"})
    assert [v["user"] for v in _get(api, customer, f"{article.pk}/feedback/").json()] == [customer.pk]
    votes = _get(api, agent, f"{article.pk}/feedback/").json()
    assert sorted(v["comment"] for v in votes) == ["", "Great"]
    assert _post(api, customer, f"{article.pk}/feedback/", {"helpful": "maybe"}).status_code == 400


def test_versions_diff_and_restore(api, agent, manager, customer):
    live = published_article(by=agent, publisher=manager, title="Reset", body="Step one.\nStep two.")
    live = revised_article(live=live, by=agent, publisher=manager, body="Step one.\nStep 2, now faster.")
    r = _get(api, agent, f"{live.pk}/versions/")
    assert [v["number"] for v in r.json()] == [2, 1]
    assert _get(api, agent, f"{live.pk}/versions/1/").json()["body"] == "Step one.\nStep two."
    r = _get(api, agent, f"{live.pk}/diff/", **{"from": 1, "to": 2})
    assert r.status_code == 200
    diff = r.json()
    assert diff["changed"]
    assert {"kind": "removed", "old": 8, "new": None, "text": "Step two."} in diff["lines"]
    assert {"kind": "added", "old": None, "new": 8, "text": "Step 2, now faster."} in diff["lines"]
    assert "-Step two." in diff["unified"]
    r = _get(api, agent, f"{live.pk}/diff/", **{"from": 1, "to": 7})
    assert r.status_code == 400 and "to" in r.json() and "from" not in r.json()
    assert _get(api, agent, f"{live.pk}/diff/", **{"from": "x"}).status_code == 400
    assert _get(api, customer, f"{live.pk}/versions/").status_code == 404
    r = _post(api, agent, f"{live.pk}/restore/", {"version": 1})
    assert r.status_code == 200 and r.json()["state"] == "draft" and r.json()["revision_of"] == live.pk
    assert r.json()["body"] == "Step one.\nStep two."
    assert _post(api, agent, f"{live.pk}/restore/", {"version": 1}).status_code == 400  # one at a time


def test_revise_answers_the_revision_and_leaves_the_article_online(api, agent, manager, customer):
    live = published_article(by=agent, publisher=manager, title="Reset")
    r = _post(api, agent, f"{live.pk}/revise/")
    assert r.status_code == 200 and r.json()["revision_of"] == live.pk and r.json()["number"] == live.number
    assert _get(api, customer, f"{live.pk}/").json()["state"] == "published"


def test_promote_a_resolved_incident_to_a_draft(api, agent, customer, l1):
    incident = make_incident(requester=customer, by=agent, short_description="Wi-Fi drops", description="Often.")
    url = f"/api/v1/incidents/{incident.pk}/promote-to-knowledge/"
    r = api.as_user(agent).post(url, {}, format="json")
    assert r.status_code == 400 and "state" in r.json()
    incident_workflows.incident_resolve(
        incident=incident, actor=agent, resolution_code="resolved", resolution_notes="New access point."
    )
    r = api.as_user(agent).post(url, {}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "draft" and r.json()["source_incident"] == incident.pk
    assert r.json()["incidents"] == [incident.pk]
    assert api.as_user(l1).post(url, {}, format="json").status_code == 403
    assert api.as_user(customer).post(url, {}, format="json").status_code == 403
    other = make_incident(requester=agent)
    assert api.as_user(customer).post(
        f"/api/v1/incidents/{other.pk}/promote-to-knowledge/", {}, format="json"
    ).status_code == 404


def test_link_and_unlink_an_incident(api, agent, manager, customer, l1):
    article = published_article(by=agent, publisher=manager)
    incident = make_incident(requester=customer)
    r = _post(api, l1, f"{article.pk}/link-incident/", {"incident": incident.pk})
    assert r.status_code == 200 and r.json()["incidents"] == [incident.pk]
    assert _post(api, l1, f"{article.pk}/link-incident/", {"incident": 10**12}).status_code == 400
    assert _post(api, customer, f"{article.pk}/link-incident/", {"incident": incident.pk}).status_code == 403
    assert _post(api, l1, f"{article.pk}/unlink-incident/", {"incident": incident.pk}).json()["incidents"] == []


def test_only_a_manager_deletes_through_the_api(api, agent, manager):
    article = make_article(by=agent)
    assert api.as_user(agent).delete(f"{URL}{article.pk}/").status_code == 403
    assert api.as_user(manager).delete(f"{URL}{article.pk}/").status_code == 204
    assert not Article.objects.exists()


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_the_list_is_a_fixed_number_of_queries(request, api, agent, manager, who, django_assert_max_num_queries):
    user = request.getfixturevalue(who)
    incident = make_incident(requester=request.getfixturevalue("customer"))
    for n in range(12):
        article = published_article(by=agent, publisher=manager, title=f"Printer {n}")
        article.incidents.add(incident)
    client = api.as_user(user)
    for params in ({"page_size": 3}, {"page_size": 12}, {"search": "printer", "page_size": 12}):
        with django_assert_max_num_queries(6):
            r = client.get(URL, params)
        assert r.status_code == 200 and len(r.json()["results"]) == params["page_size"]


def test_search_pages_through_the_best_matches_and_the_filters_apply(api, agent, manager, customer):
    for n in range(7):
        published_article(by=agent, publisher=manager, title=f"Printer {n}", category="Printing" if n % 2 else "")
    client = api.as_user(customer)
    first = client.get(URL, {"search": "printer", "page_size": 5}).json()
    assert first["count"] == 7 and len(first["results"]) == 5 and first["previous"] is None
    assert first["count_capped"] is False
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    titles = [a["title"] for a in first["results"] + second["results"]]
    assert sorted(titles) == sorted(f"Printer {n}" for n in range(7))
    filtered = client.get(URL, {"search": "printer", "category": "Printing"}).json()
    assert sorted(a["title"] for a in filtered["results"]) == ["Printer 1", "Printer 3", "Printer 5"]
    assert client.get(URL, {"search": "printer", "page": 9}).status_code == 400
