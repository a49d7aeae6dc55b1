"""The known error database on the desk: search known errors by words, with their workaround."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views import View

from itsm import policy
from itsm.views.base import DeskMixin
from problems.models import Problem
from problems.selectors import known_errors

SHOWN = 25


class KnownErrorSearchView(DeskMixin, View):
    """``?q=words``: the best-ranked known errors the user may read (PostgreSQL full text with
    highlighted snippets; a plain search on SQLite); without words, the newest known errors."""

    def get(self, request):
        if not policy.can(request.user, "read", Problem):
            raise Http404("No such page.")  # as every problem URL
        text = request.GET.get("q", "").strip()[:200]
        hits = known_errors(request.user, text, limit=SHOWN)
        return render(request, "problems/desk/known_errors.html", {"q": text, "hits": hits})
