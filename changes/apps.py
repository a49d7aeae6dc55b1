from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "changes"
    verbose_name = "Changes"

    def ready(self):
        from changes import workflows  # noqa: F401  (registers the change and task lifecycles)
        from changes import panels

        panels.register()  # the incident page's changes panel (itsm.views.panels)
