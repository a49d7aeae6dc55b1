"""Desk pages for notifications (mounted under /desk/ in the ``desk`` namespace)."""

from django.urls import path

from notifications import views

desk_urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/badge/", views.UnreadBadgeView.as_view(), name="notifications-badge"),
    path("notifications/read/", views.MarkAllReadView.as_view(), name="notifications-read-all"),
    path("notifications/<int:pk>/read/", views.MarkReadView.as_view(), name="notification-read"),
]
