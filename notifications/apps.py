from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from itsm.services import watch
        from notifications.services import withdraw_unneeded

        watch(withdraw_unneeded)
