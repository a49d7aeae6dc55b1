from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        # The state machines register their lifecycles with the shared services; the attachments
        # card joins the desk's incident page (itsm.views.panels).
        from incidents import attachments, workflows  # noqa: F401
        from incidents.views.desk import queue
        from itsm import queues

        attachments.register()
        queues.register(queue.QUEUE)  # its saved views, columns, page size and export (itsm.queues)
