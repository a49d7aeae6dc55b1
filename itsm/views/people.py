"""The people pickers' suggestions: ``GET /people/?source=<name>&q=<typed>`` answers at most
twenty people of that source that the signed-in reader may pick, as the form field would
accept them (the same ``itsm.people`` source), labelled as the reader reads people."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from itsm import people


@require_GET
@login_required
def suggest(request):
    name = request.GET.get("source", "")
    if name not in people.SOURCES:
        return JsonResponse({"detail": "No such list of people.", "results": []}, status=404)
    allowed = people.source(name).allowed(request.user)
    found = people.suggest(request.user, allowed, request.GET.get("q", ""))
    results = [{"id": person.pk, "label": people.label(request.user, person)} for person in found]
    response = JsonResponse({"results": results})
    response["Cache-Control"] = "private, no-store"
    return response
