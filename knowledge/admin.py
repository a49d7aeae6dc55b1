"""Knowledge admin pages. Every permission comes from the policy (``knowledge/rules.py``); adds
and edits go through ``knowledge.services`` (the ones the API uses), publish and retire through
the workflows as bulk actions (``knowledge.actions``). Versions and votes are read-only: only
the workflows and the feedback service write them."""

from __future__ import annotations

from django.contrib import admin

from itsm import policy
from itsm.admin_base import PolicyModelAdmin
from knowledge import services
from knowledge.actions import ACTIONS
from knowledge.models import Article, ArticleFeedback, ArticleState, ArticleVersion


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return ArticleState.choices

    def queryset(self, request, queryset):
        if self.value() in ArticleState.values:
            return queryset.filter(state=self.value())
        return queryset


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ["number", "title", "published_at", "published_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_view_permission(self, request, obj=None):
        return policy.can(request.user, "read", ArticleVersion)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return policy.readable(request.user, ArticleVersion, super().get_queryset(request)).select_related(
            "published_by"
        )


@admin.register(Article)
class ArticleAdmin(PolicyModelAdmin):
    """Articles: adds and edits through ``knowledge.services`` (drafts, and articles in review for
    managers); publish and retire as bulk actions."""

    list_display = ["number", "title", "state", "audience", "category", "owner", "published_at", "updated_at"]
    list_filter = [StateFilter, "audience", "category"]
    list_select_related = ["owner"]
    search_fields = ["number", "title", "summary", "keywords"]
    raw_id_fields = ["owner"]
    inlines = [VersionInline]
    action_table = ACTIONS

    def get_inline_instances(self, request, obj=None):
        if request.method == "POST" or obj is None:
            return []
        return super().get_inline_instances(request, obj)

    def create_record(self, request, data):
        return services.article_create(actor=request.user, data=data)

    def update_record(self, request, obj, data, expected_version):
        return services.article_update(
            article=obj, actor=request.user, data=data, expected_version=expected_version
        )

    def delete_record(self, request, obj) -> None:
        services.article_delete(article=obj, actor=request.user)


@admin.register(ArticleVersion)
class ArticleVersionAdmin(PolicyModelAdmin):
    """Published versions, read-only (written by publishing)."""

    list_display = ["article", "number", "title", "published_at", "published_by"]
    list_select_related = ["article", "published_by"]
    search_fields = ["article__number", "title"]


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(PolicyModelAdmin):
    """Readers' votes, read-only (written by the feedback service, which keeps the counts)."""

    list_display = ["article", "user", "helpful", "updated_at"]
    list_filter = ["helpful"]
    list_select_related = ["article", "user"]
    search_fields = ["article__number"]
