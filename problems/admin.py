from django.contrib import admin

from itsm.admin_base import PolicyModelAdmin
from problems.models import Problem, ProblemTask


@admin.register(Problem)
class ProblemAdmin(PolicyModelAdmin):
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


@admin.register(ProblemTask)
class ProblemTaskAdmin(PolicyModelAdmin):
    list_display = ["number", "short_description", "problem", "state", "assignee", "opened_at"]
    list_filter = ["state"]
    list_select_related = ["problem", "assignee"]
    search_fields = ["number", "short_description"]
    raw_id_fields = ["problem"]
    parent_field = "problem"
