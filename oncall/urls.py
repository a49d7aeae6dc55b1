"""On-call URLs: desk pages (mounted under /desk/ in the ``desk`` namespace) and the public
calendar feed (mounted at the site root, no namespace)."""

from django.urls import path

from oncall import views

desk_urlpatterns = [
    path("oncall/", views.ScheduleListView.as_view(), name="oncall-list"),
    path("oncall/now/", views.OnCallNowView.as_view(), name="oncall-now"),
    path("oncall/new/", views.ScheduleFormView.as_view(), name="oncall-new"),
    path("oncall/my-feed/", views.MyFeedView.as_view(), name="oncall-my-feed"),
    path("oncall/<int:pk>/", views.ScheduleDetailView.as_view(), name="oncall-detail"),
    path("oncall/<int:pk>/edit/", views.ScheduleFormView.as_view(), name="oncall-edit"),
    path("oncall/<int:pk>/overrides/", views.OverrideCreateView.as_view(), name="oncall-override-new"),
    path(
        "oncall/<int:pk>/overrides/<int:override_id>/delete/",
        views.OverrideDeleteView.as_view(),
        name="oncall-override-delete",
    ),
    path("oncall/<int:pk>/feed/reset/", views.FeedResetView.as_view(), name="oncall-feed-reset"),
]

feed_urlpatterns = [path("oncall/feeds/<int:pk>/<str:token>.ics", views.feed, name="oncall-feed")]
