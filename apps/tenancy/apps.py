from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "apps.tenancy"
    default_auto_field = "django.db.models.BigAutoField"
