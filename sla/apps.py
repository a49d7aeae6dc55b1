from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA"

    def ready(self):
        from sla import signals  # noqa: F401 — calendar edits move the running clocks
