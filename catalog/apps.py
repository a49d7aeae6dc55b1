from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self):
        from catalog import workflows  # noqa: F401 (registers the request and task lifecycles)
