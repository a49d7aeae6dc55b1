from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "problems"
    verbose_name = "Problems"

    def ready(self):
        from itsm import queues
        from problems import workflows  # noqa: F401  (registers the problem lifecycles)
        from problems.views.desk import queue

        queues.register(queue.QUEUE)  # its saved views, columns, page size and export (itsm.queues)
