from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Service catalog"

    def ready(self):
        # workflows registers the request and task lifecycles; panels the portal home's panel.
        from catalog import panels, workflows  # noqa: F401

        panels.register()
        from catalog.views.desk import queue
        from itsm import queues

        queues.register(queue.QUEUE)  # its saved views, columns, page size and export (itsm.queues)
