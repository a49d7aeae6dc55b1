"""In-app notifications, for reading: they are written by ``notifications.services.send``.
The policy lets each person read only its own."""

from __future__ import annotations

from django.contrib import admin

from itsm.admin_base import PolicyModelAdmin
from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(PolicyModelAdmin):
    list_display = ["created_at", "kind", "subject", "work_number", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["work"]
    search_fields = ["subject"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["recipient", "kind", "work", "subject", "body", "created_at", "read_at"]
    readonly_fields = fields

    @admin.display(description="work", ordering="work__number")
    def work_number(self, obj) -> str:
        return obj.work.number if obj.work_id else "—"

    def has_change_permission(self, request, obj=None):
        return False  # read_at is set from the desk's notification page
