"""Portal pages for incidents (mounted under /portal/ with the ``portal`` namespace)."""

urlpatterns: list = []
