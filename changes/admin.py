from django.contrib import admin

from changes.models import Change, ChangeTask
from itsm.admin_base import PolicyModelAdmin


@admin.register(Change)
class ChangeAdmin(PolicyModelAdmin):
    list_display = [
        "number",
        "short_description",
        "state",
        "priority",
        "assignment_group",
        "assignee",
        "opened_at",
    ]
    list_filter = ["state", "priority", "assignment_group"]
    list_select_related = ["assignment_group", "assignee"]
    search_fields = ["number", "short_description"]
    show_full_result_count = False

    def creation_values(self, request):
        return {"requester": request.user}


@admin.register(ChangeTask)
class ChangeTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "change", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["change", "assignee"]
    search_fields = ["number", "short_description"]
    raw_id_fields = ["change"]
    parent_field = "change"
