from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ItsmConfig(AppConfig):
    default = True
    name = "itsm"
    verbose_name = "ITSM core"


class ItsmAdminConfig(admin_apps.AdminConfig):
    """Django admin on a site that asks the policy who may enter."""

    default = False
    default_site = "itsm.admin_site.ItsmAdminSite"
