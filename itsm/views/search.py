"""The header's search box, on the desk and on the portal (issue 17, item 9).

A whole record number (``INC0000005``) opens that record's page when the reader may read it.
Words search the reader's readable work with the API's own search (``PolicySearchFilter``: one
indexed column where the reader may read every searched field, else only the fields it may
read; never a hidden field), and the results are grouped by kind. The desk searches the ITSM
Work queue (a task opens its parent's page); the portal searches each kind of work that has a
portal page, as far as the customer may read it. Nothing here names a domain: kinds and pages
come from their lifecycles.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from rest_framework.request import Request

from itsm import policy
from itsm.api.filters import PolicySearchFilter
from itsm.models import Work
from itsm.numbering import as_record_number
from itsm.views.base import DeskMixin, PortalMixin
from itsm.views.pages import desk_links
from itsm.workflow import lifecycles

PER_KIND = 20
MAX_QUERY = 200
SEARCHED = ["number", "short_description", "description"]


class _Search(PolicySearchFilter):
    search_param = "q"


class _Door:
    """What ``PolicySearchFilter`` asks of a view: the fields searched and the model whose policy
    hides some of them."""

    search_fields = SEARCHED

    def __init__(self, model):
        self.model = model

    def get_policy_model(self):
        return self.model


def search(request, queryset):
    """``queryset`` narrowed by the request's ``q`` as the API's ``?search=`` narrows a list."""
    api_request = Request(request)
    api_request.user = request.user
    return _Search().filter_queryset(api_request, queryset, _Door(queryset.model))


def _query(request) -> str:
    return request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]


def _grouped(rows) -> list[dict]:
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(row.kind, {"kind": row.kind, "label": row.get_kind_display(), "rows": []})
        group["rows"].append(row)
    return list(groups.values())


class DeskSearchView(DeskMixin, View):
    template_name = "itsm/search.html"

    def get(self, request):
        q = _query(request)
        context = {"q": q, "groups": [], "base": "itsm/desk/base.html", "action": reverse("desk:search")}
        if q and policy.can(request.user, "read", Work):
            found = search(request, policy.readable(request.user, Work)).order_by("kind", "-opened_at", "-id")
            rows = []
            for kind in {k for k, _ in Work._meta.get_field("kind").choices}:
                rows += list(found.filter(kind=kind)[:PER_KIND])
            desk_links(rows)
            if as_record_number(q) and len(rows) == 1 and rows[0].desk_url:
                return redirect(rows[0].desk_url)
            rows.sort(key=lambda r: (r.kind, -r.opened_at.timestamp()))
            context["groups"] = _grouped(rows)
        return render(request, self.template_name, context)


class PortalSearchView(PortalMixin, View):
    template_name = "itsm/search.html"

    def get(self, request):
        q = _query(request)
        context = {"q": q, "groups": [], "base": "itsm/portal/base.html", "action": reverse("portal:search")}
        if q:
            rows = []
            for lifecycle in lifecycles():
                if not lifecycle.portal_page or not policy.can(request.user, "read", lifecycle.model):
                    continue
                readable = policy.readable(request.user, lifecycle.model)
                found = list(search(request, readable).order_by("-opened_at", "-id")[:PER_KIND])
                for row in found:
                    row.page_url = reverse(lifecycle.portal_page, args=[row.pk])
                rows += found
            if as_record_number(q) and len(rows) == 1:
                return redirect(rows[0].page_url)
            for row in rows:
                row.desk_url = row.page_url
            context["groups"] = _grouped(rows)
        return render(request, self.template_name, context)


class RecordNumberConverter:
    """A record number in a URL (``INC0000005``, any case): ``/desk/incidents/INC0000005/``."""

    regex = "[A-Za-z]{3,4}[0-9]{7}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


def desk_record_by_number(request, section: str, number: str):
    """``/desk/<section>/<number>/``: the record's own desk page (a task: its parent's), as
    the search box's number does; a number the reader may not read is not found."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    if not policy.has_permission(request.user, "desk.access"):
        return render(request, "itsm/desk_refused.html", status=403)
    row = policy.readable(request.user, Work).filter(number=number).first()
    if row is not None:
        desk_links([row])
    if row is None or not row.desk_url:
        raise Http404("No such record.")
    return redirect(row.desk_url)


def portal_record_by_number(request, section: str, number: str):
    """``/portal/<section>/<number>/``: the record's portal page, if the customer may read it."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    for lifecycle in lifecycles():
        if not lifecycle.portal_page or not number.startswith(lifecycle.model.NUMBER_PREFIX):
            continue
        row = policy.readable(request.user, lifecycle.model).filter(number=number).first()
        if row is not None:
            return redirect(reverse(lifecycle.portal_page, args=[row.pk]))
    raise Http404("No such record.")
