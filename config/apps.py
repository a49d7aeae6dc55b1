from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The top layer as an app, so it can hold commands that use every domain (``seed_demo``,
    ``seed_bulk``); it has no models."""

    name = "config"
    verbose_name = "Site configuration"
