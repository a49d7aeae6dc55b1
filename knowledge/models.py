"""Knowledge articles, their published versions and their feedback.

An ``Article`` is not ITSM Work (it is not a ticket): it has its own table, its own KB number
(``itsm.numbering``, prefix ``KB``), its own states (``ArticleState``) and an optimistic-locking
``version`` like ``Work.version`` (a stale save is a 409).

Revising a published article never takes it offline: ``article_revise`` makes a *revision*, a
draft row of its own whose ``revision_of`` is the live article and which shows the live
article's number ("KB0000001 (revision)"). Publishing the revision writes its content onto the
live article and deletes the revision row. Every publication (the first one and each revision's)
is kept as an ``ArticleVersion`` (n = 1, 2, …), so the versions list is the article's published
history, the live content being the newest version.

``body_html`` is the body rendered and sanitised (``knowledge.markdown``) by ``save`` whenever
the body is saved, so reading an article costs nothing. On PostgreSQL ``save`` also keeps two
stored English documents, each with a GIN index over published articles (migration 0001):
``search_vector``, the whole article weighted (title A; summary, keywords and category B; body
C), and ``search_head``, the same without the body — small, kept in the table's row (storage
PLAIN) while the long texts live in TOAST (``toast_tuple_target``), so ranking thousands of
candidates reads a narrow table (``knowledge.selectors``).
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connections, models, router
from django.db.models import Q, Value

from knowledge.markdown import render

NUMBER_PREFIX = "KB"


class ArticleState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class Audience(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    AGENTS = "agents", "Agents only"


class Article(models.Model):
    number = models.CharField(max_length=20, editable=False, db_index=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False)
    category = models.CharField(max_length=60, blank=True)
    keywords = models.CharField(max_length=300, blank=True, help_text="Words to find it by, comma-separated.")
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.EVERYONE)
    state = models.CharField(
        max_length=12, choices=ArticleState.choices, default=ArticleState.DRAFT, editable=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )  # fmt: skip
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The number of the published version the live content is (0: never published).
    published_version = models.PositiveIntegerField(default=0, editable=False)
    review_notes = models.TextField(blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    # Kept exact by the feedback service (recounted in the database on the locked article).
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(default=0, editable=False)
    revision_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="revisions", editable=False
    )
    source_incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )  # fmt: skip
    incidents = models.ManyToManyField(
        "incidents.Incident", blank=True, related_name="knowledge_articles", editable=False
    )
    # See the module docstring: NULL on SQLite; never fields of the record (``itsm.policy``).
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    search_head = SearchVectorField(null=True, blank=True, editable=False)

    # The fields of ``search_head`` and ``search_vector`` and their weights, in order.
    HEAD = (("title", "A"), ("summary", "B"), ("keywords", "B"), ("category", "B"))
    WEIGHTED = (*HEAD, ("body", "C"))
    NUMBER_PREFIX = NUMBER_PREFIX

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["state", "-published_at"], name="article_state_published"),
            models.Index(fields=["state", "-updated_at"], name="article_state_updated"),
            models.Index(fields=["category"], name="article_category"),
        ]
        constraints = [
            # The live article holds the number; its revisions show it too.
            models.UniqueConstraint(
                fields=["number"], condition=Q(revision_of__isnull=True), name="article_number_unique"
            ),
            # At most one revision in progress per article.
            models.UniqueConstraint(
                fields=["revision_of"], condition=Q(revision_of__isnull=False), name="article_one_revision"
            ),
        ]

    def __str__(self) -> str:
        suffix = " (revision)" if self.revision_of_id else ""
        return f"{self.number}{suffix} {self.title}"

    def save(self, *args, **kwargs):
        """Renders ``body_html`` from ``body``, and keeps ``search_vector`` on PostgreSQL, whenever
        the fields they come from are saved (also on a partial save)."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self.body_html = render(self.body)
            if update_fields is not None:
                update_fields = kwargs["update_fields"] = [*update_fields, "body_html"]
        weighted = {name for name, _ in self.WEIGHTED}
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        if connections[using].vendor != "postgresql" or not (
            update_fields is None or set(update_fields) & weighted
        ):
            return super().save(*args, **kwargs)
        self.search_vector = self.search_vector_expression(self.WEIGHTED)
        self.search_head = self.search_vector_expression(self.HEAD)
        if update_fields is not None:
            kwargs["update_fields"] = [*update_fields, "search_vector", "search_head"]
        super().save(*args, **kwargs)
        self.search_vector = self.search_head = None

    @property
    def is_revision(self) -> bool:
        return self.revision_of_id is not None

    def search_vector_expression(self, weighted):
        vectors = [
            SearchVector(Value(getattr(self, name) or ""), config="english", weight=weight)
            for name, weight in weighted
        ]
        document = vectors[0]
        for vector in vectors[1:]:
            document = document + vector
        return document


def search_vector_sql(alias: str = "a", *, head: bool = False) -> str:
    """``Article.search_vector`` (``head``: ``search_head``) as SQL over an article row ``alias``
    (bulk writers, migrations)."""
    return " || ".join(
        f"setweight(to_tsvector('english'::regconfig, COALESCE({alias}.{name}, '')), '{weight}')"
        for name, weight in (Article.HEAD if head else Article.WEIGHTED)
    )


class ArticleVersion(models.Model):
    """One publication of an article: its content as published, numbered 1, 2, … per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    category = models.CharField(max_length=60, blank=True)
    keywords = models.CharField(max_length=300, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    CONTENT = ("title", "summary", "body", "category", "keywords", "audience")

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article.number} v{self.number}"


class ArticleFeedback(models.Model):
    """One reader's vote on an article (a second vote updates it); the comment is for editors."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="article_feedback_once"),
        ]

    def __str__(self) -> str:
        return f"{'Helpful' if self.helpful else 'Not helpful'}: {self.article.number}"
