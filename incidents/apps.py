from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        # The state machines register their lifecycles with the shared services.
        from incidents import workflows  # noqa: F401
        from incidents.views.desk import queue
        from itsm import queues

        queues.register(queue.QUEUE)  # its saved views, columns, page size and export (itsm.queues)
