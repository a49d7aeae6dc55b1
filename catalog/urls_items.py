"""Catalog item management pages, one set of views in two doors: ``desk_urlpatterns`` (mounted
under /desk/, namespace ``desk``) and ``portal_urlpatterns`` (the portal's Manage Items tab, under
/portal/, namespace ``portal``)."""

from django.urls import path

from catalog.views import builder, items


def _patterns(door: str, root: str, list_name: str, prefix: str) -> list:
    return [
        path(root, items.ItemListView.as_view(door=door), name=list_name),
        path(f"{root}new/", items.ItemDetailsView.as_view(door=door), name=f"{prefix}-new"),
        path(f"{root}<int:pk>/", items.ItemDetailsView.as_view(door=door), name=f"{prefix}-edit"),
        path(f"{root}<int:pk>/fields/", builder.FieldsView.as_view(door=door), name=f"{prefix}-fields"),
        path(f"{root}<int:pk>/preview/", builder.PreviewView.as_view(door=door), name=f"{prefix}-preview"),
        path(f"{root}<int:pk>/active/", items.ItemActiveView.as_view(door=door), name=f"{prefix}-active"),
    ]


desk_urlpatterns: list = [
    *_patterns("desk", "catalog/items/", "catalog-item-list", "catalog-item"),
    path("catalog/categories/", items.CategoryListView.as_view(door="desk"), name="catalog-category-list"),
]
portal_urlpatterns: list = _patterns("portal", "catalog/manage/", "catalog-manage", "catalog-manage")
