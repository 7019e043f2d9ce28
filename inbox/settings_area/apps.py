from django.apps import AppConfig


class SettingsAreaConfig(AppConfig):
    # An app of its own only for its template tags; its models live in inbox.models.
    name = "inbox.settings_area"
    label = "settings_area"
    verbose_name = "Parley settings area"

    def ready(self) -> None:
        from inbox.settings_area import signals  # noqa: F401 - connects the receivers
