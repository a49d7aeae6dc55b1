from django.contrib import admin

from catalog.models import Request, RequestTask
from itsm.admin_base import PolicyModelAdmin


@admin.register(Request)
class RequestAdmin(PolicyModelAdmin):
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


@admin.register(RequestTask)
class RequestTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "request", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["request", "assignee"]
    search_fields = ["number", "short_description"]
    raw_id_fields = ["request"]
    parent_field = "request"
