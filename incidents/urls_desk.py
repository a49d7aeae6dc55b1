"""Desk pages for incidents (mounted under /desk/ with the ``desk`` namespace)."""

urlpatterns: list = []
