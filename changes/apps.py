from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = "Changes"

    def ready(self):
        from changes import (
            panels,
            workflows,  # noqa: F401  (registers the change and task lifecycles)
        )

        panels.register()  # the incident page's changes panel (itsm.views.panels)
        from changes.views.desk import queue
        from itsm import queues

        queues.register(queue.QUEUE)  # its saved views, columns, page size and export (itsm.queues)
