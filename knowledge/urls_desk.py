"""Desk pages for knowledge (mounted under /desk/ with the ``desk`` namespace), and the incident
page's knowledge panel's forms."""

from django.urls import path

from knowledge.views import desk, incident

urlpatterns: list = [
    path("knowledge/", desk.ArticleListView.as_view(), name="article-list"),
    path("knowledge/new/", desk.ArticleNewView.as_view(), name="article-new"),
    path("knowledge/preview/", desk.ArticlePreviewView.as_view(), name="article-preview"),
    path("knowledge/review/", desk.ReviewQueueView.as_view(), name="article-review"),
    path("knowledge/<int:pk>/", desk.ArticleDetailView.as_view(), name="article-detail"),
    path("knowledge/<int:pk>/edit/", desk.ArticleEditView.as_view(), name="article-edit"),
    path("knowledge/<int:pk>/delete/", desk.ArticleDeleteView.as_view(), name="article-delete"),
    path("knowledge/<int:pk>/history/", desk.ArticleHistoryView.as_view(), name="article-history"),
    path("knowledge/<int:pk>/diff/", desk.ArticleDiffView.as_view(), name="article-diff"),
    path("knowledge/<int:pk>/actions/<slug:action>/", desk.ArticleActionView.as_view(), name="article-action"),
    path("incidents/<int:pk>/knowledge/link/", incident.IncidentArticleView.as_view(), name="incident-article-link"),
    path(
        "incidents/<int:pk>/knowledge/unlink/",
        incident.IncidentArticleView.as_view(unlink=True),
        name="incident-article-unlink",
    ),
    path("incidents/<int:pk>/knowledge/promote/", incident.IncidentPromoteView.as_view(), name="incident-promote"),
    path(
        "incidents/<int:pk>/knowledge/suggestions/",
        incident.IncidentSuggestionsView.as_view(),
        name="incident-article-suggestions",
    ),
]
