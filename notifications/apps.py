from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    # Agent notifications: the bell, browser notifications and sound, email digests. They react
    # to the inbox's domain events (listed in inbox/listeners.py); services never call them.
    name = "notifications"
    verbose_name = "Agent notifications"
    default_auto_field = "django.db.models.BigAutoField"
