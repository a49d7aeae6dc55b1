from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.module_loading import autodiscover_modules

from itsm import logging as itsm_logging


class ItsmConfig(AppConfig):
    default = True
    name = "itsm"
    verbose_name = "ITSM core"

    def ready(self):
        # Each app declares its records' access rules in its own rules.py (itsm.policy.rules
        # ``register``); discovering them here keeps the core from importing any app.
        autodiscover_modules("rules")
        # Query counts and slow-query lines for the request and task log (itsm.logging).
        itsm_logging.install()


class ItsmAdminConfig(admin_apps.AdminConfig):
    """Django admin on a site that asks the policy who may enter."""

    default = False
    default_site = "itsm.admin_site.ItsmAdminSite"
