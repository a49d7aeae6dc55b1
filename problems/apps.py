from django.apps import AppConfig


class ProblemsConfig(AppConfig):
    name = "problems"
    verbose_name = "Problems"

    def ready(self):
        from problems import workflows  # noqa: F401  (registers the problem lifecycles)
