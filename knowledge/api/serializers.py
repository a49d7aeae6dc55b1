"""Articles through the API. Content fields are written through ``knowledge.services`` (create,
edit with ``If-Match``); state, versions, counters and links change only through the actions."""

from __future__ import annotations

from rest_framework import serializers

from itsm.api.serializers import PolicySerializer
from knowledge import selectors, services
from knowledge.models import Article, ArticleFeedback, ArticleVersion

ARTICLE_FIELDS = [
    "id", "number", "title", "summary", "body", "body_html", "category", "keywords", "audience", "state",
    "author", "owner", "created_at", "updated_at", "submitted_at", "published_at", "published_by", "retired_at",
    "published_version", "review_notes", "version", "helpful_count", "not_helpful_count", "revision_of",
    "source_incident", "incidents",
]  # fmt: skip


class ArticleSerializer(PolicySerializer):
    """An article. ``body`` is Markdown; ``body_html`` is it rendered and sanitised (safe to put
    in a page). From ``?search=``, each article also has ``rank`` and ``snippet`` (HTML: the text
    escaped, the matches in ``<mark>``)."""

    incidents = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    rank = serializers.SerializerMethodField()
    snippet = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [*ARTICLE_FIELDS, "rank", "snippet"]

    def get_rank(self, article) -> float | None:
        rank = getattr(article, "rank", None)
        return round(float(rank), 4) if rank is not None and self.context.get("search") else None

    def get_snippet(self, article) -> str | None:
        search = self.context.get("search")
        return selectors.snippet_of(article, search) if search else None

    def create(self, validated_data):
        return services.article_create(actor=self._user(), data=validated_data)

    def update(self, instance, validated_data):
        return services.article_update(
            article=instance, actor=self._user(), data=validated_data, expected_version=self._if_match()
        )


class ArticleVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArticleVersion
        fields = [
            "number", "title", "summary", "body", "category", "keywords", "audience", "published_at",
            "published_by",
        ]  # fmt: skip


class ArticleVersionListSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "published_at", "published_by"]


class DiffLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["context", "added", "removed", "skip"])
    old = serializers.IntegerField(allow_null=True, help_text="Line number in the older version.")
    new = serializers.IntegerField(allow_null=True, help_text="Line number in the newer version.")
    text = serializers.CharField()


class DiffSerializer(serializers.Serializer):
    old_label = serializers.CharField()
    new_label = serializers.CharField()
    changed = serializers.BooleanField()
    lines = DiffLineSerializer(many=True)
    unified = serializers.CharField(help_text="The same diff as unified diff text.")


class DiffQuery(serializers.Serializer):
    """``?from=&to=``: two version numbers of the article."""

    def get_fields(self):
        return {
            "from": serializers.IntegerField(min_value=1, max_value=2**31 - 1),
            "to": serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        }


class FeedbackSerializer(PolicySerializer):
    """A reader's vote (``comment``: knowledge editors read it; a reader reads its own vote
    without it), with the article's counts after it."""

    helpful_count = serializers.IntegerField(source="article.helpful_count", read_only=True)
    not_helpful_count = serializers.IntegerField(source="article.not_helpful_count", read_only=True)

    class Meta:
        model = ArticleFeedback
        fields = ["id", "article", "user", "helpful", "comment", "created_at", "updated_at",
                  "helpful_count", "not_helpful_count"]  # fmt: skip


class HitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.pk")
    number = serializers.CharField(source="article.number")
    title = serializers.CharField(source="article.title")
    summary = serializers.CharField(source="article.summary")
    category = serializers.CharField(source="article.category")
    rank = serializers.FloatField()
    snippet = serializers.CharField(help_text="HTML: the text escaped, the matches in <mark>.")


class SuggestQuery(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000,
                                 trim_whitespace=True)  # fmt: skip
    limit = serializers.IntegerField(required=False, default=5, min_value=1, max_value=20)


class IncidentInput(serializers.Serializer):
    incident = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
