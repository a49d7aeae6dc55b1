from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "escalation"

    def ready(self):
        # Each SLA breach raises the escalation level (sla tells; it does not import escalation).
        from escalation import services
        from sla import breaches

        breaches.listen(services.breached)
