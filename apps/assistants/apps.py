from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    name = "apps.assistants"
    label = "assistants"
    default_auto_field = "django.db.models.BigAutoField"
