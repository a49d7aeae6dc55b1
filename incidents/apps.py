from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        # The state machines register their lifecycles with the shared services; the attachments
        # card joins the desk's incident page (itsm.views.panels).
        from incidents import attachments, workflows  # noqa: F401

        attachments.register()
