from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self):
        # workflows registers the request and task lifecycles; panels the portal home's panel.
        from catalog import panels, workflows  # noqa: F401

        panels.register()
