"""Portal pages for knowledge (mounted under /portal/ with the ``portal`` namespace)."""

from django.urls import path

from knowledge.views import portal

urlpatterns: list = [
    path("knowledge/", portal.KnowledgeSearchView.as_view(), name="knowledge"),
    path("knowledge/<int:pk>/", portal.KnowledgeArticleView.as_view(), name="knowledge-article"),
    path("knowledge/<int:pk>/feedback/", portal.KnowledgeFeedbackView.as_view(), name="knowledge-feedback"),
]
