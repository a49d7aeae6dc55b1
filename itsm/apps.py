from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.module_loading import autodiscover_modules


class ItsmConfig(AppConfig):
    default = True
    name = "itsm"
    verbose_name = "ITSM core"

    def ready(self):
        # Each app declares its records' access rules in its own rules.py (itsm.policy.rules
        # ``register``); discovering them here keeps the core from importing any app.
        autodiscover_modules("rules")


class ItsmAdminConfig(admin_apps.AdminConfig):
    """Django admin on a site that asks the policy who may enter."""

    default = False
    default_site = "itsm.admin_site.ItsmAdminSite"
