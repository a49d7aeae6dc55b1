"""Escalation policy admin: a policy with its ordered stages (timeout, users, group, on-call
schedule, acknowledgment). Managed by the ITSM administrator; permissions come from the policy
and every save (the policy and each stage) goes through ``itsm.services``."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from escalation.models import MAX_STAGES, EscalationPolicy, EscalationStage
from itsm.admin_base import PolicyInline, PolicyModelAdmin, ServiceInlinesMixin


class EscalationPolicyForm(forms.ModelForm):
    class Meta:
        model = EscalationPolicy
        fields = ["name", "description", "organisation", "is_default", "is_active"]

    def clean(self):
        data = super().clean()
        if data.get("is_default"):
            others = EscalationPolicy.objects.filter(is_default=True, organisation=data.get("organisation"))
            if self.instance.pk is not None:
                others = others.exclude(pk=self.instance.pk)
            other = others.first()
            if other is not None:
                where = f"for {data['organisation']}" if data.get("organisation") else "account-wide"
                self.add_error(
                    "is_default",
                    f"“{other}” is already the default {where}. Untick its default first, or leave this "
                    "one as a non-default policy.",
                )
        return data


class StageInline(PolicyInline):
    model = EscalationStage
    fields = ["order", "timeout_minutes", "requires_acknowledgment", "users", "assignment_group", "schedule"]
    filter_horizontal = ["users"]
    extra = 1
    max_num = MAX_STAGES  # as the API (escalation.policies) allows
    ordering = ["order"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(ServiceInlinesMixin, PolicyModelAdmin):
    form = EscalationPolicyForm
    list_display = ["name", "organisation", "is_default", "is_active", "stage_count"]
    list_filter = ["is_default", "is_active", "organisation"]
    list_select_related = ["organisation"]
    search_fields = ["name", "description"]
    inlines = [StageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(stage_total=Count("stages"))

    @admin.display(description="stages", ordering="stage_total")
    def stage_count(self, obj) -> int:
        return obj.stage_total
