from django.contrib import admin

from incidents.models import Incident, IncidentTask
from itsm.admin_base import PolicyModelAdmin


@admin.register(Incident)
class IncidentAdmin(PolicyModelAdmin):
    list_display = [
        "number",
        "short_description",
        "state",
        "priority",
        "assignment_group",
        "assignee",
        "requester",
        "opened_at",
    ]
    list_filter = ["state", "priority", "major_incident", "assignment_group"]
    list_select_related = ["assignment_group", "assignee", "requester"]
    search_fields = ["number", "short_description"]
    date_hierarchy = "opened_at"
    show_full_result_count = False
    filter_horizontal = ["collaborators"]
    raw_id_fields = ["related_incidents"]

    def creation_values(self, request):
        return {"requester": request.user}


@admin.register(IncidentTask)
class IncidentTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "incident", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["incident", "assignee"]
    search_fields = ["number", "short_description"]
    raw_id_fields = ["incident"]
