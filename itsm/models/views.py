from django.conf import settings
from django.db import models

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 25


class SavedView(models.Model):
    """A desk queue as someone left it: its filters (a query string the queue's filter set
    accepts), columns, sort and page size. Its owner's own, or shared read-only with one
    assignment group the owner belongs to. Written only through ``itsm.saved_views``."""

    kind = models.CharField(max_length=16)  # the queue's key in ``itsm.queues`` (incident, problem…)
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True)
    columns = models.JSONField(default=list, blank=True)
    sort = models.CharField(max_length=40, blank=True)
    page_size = models.PositiveSmallIntegerField(default=DEFAULT_PAGE_SIZE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    shared_with = models.ForeignKey(
        "itsm.AssignmentGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="saved_views"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "kind", "name"], name="unique_saved_view_name")
        ]
        ordering = ["kind", "name", "pk"]

    def __str__(self) -> str:
        return self.name
