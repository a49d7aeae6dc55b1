"""Portal pages of the service catalog (mounted under /portal/ with the ``portal`` namespace)."""

from django.urls import path

from catalog.views import portal

urlpatterns: list = [
    path("catalog/", portal.CatalogBrowseView.as_view(), name="catalog"),
    path("catalog/items/<int:pk>/", portal.CatalogItemRequestView.as_view(), name="catalog-item"),
    path("requests/", portal.RequestListView.as_view(), name="request-list"),
    path("requests/<int:pk>/", portal.RequestDetailView.as_view(), name="request-detail"),
    path("requests/<int:pk>/comment/", portal.RequestCommentView.as_view(), name="request-comment"),
    path("requests/<int:pk>/attach/", portal.RequestAttachView.as_view(), name="request-attach"),
    path("requests/<int:pk>/approve/", portal.RequestApproveView.as_view(), name="request-approve"),
    path("requests/<int:pk>/reject/", portal.RequestRejectView.as_view(), name="request-reject"),
    path("requests/<int:pk>/cancel/", portal.RequestCancelView.as_view(), name="request-cancel"),
    path("requests/<int:pk>/complete/", portal.RequestCompleteView.as_view(), name="request-complete"),
    path("approvals/", portal.ApprovalQueueView.as_view(), name="approval-queue"),
]
