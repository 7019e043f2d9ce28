from django.apps import AppConfig


class SettingsAreaConfig(AppConfig):
    # An app of its own: its models (audit log, OAuth states, webhook handshakes) and template
    # tags.
    name = "inbox.settings_area"
    label = "settings_area"
    verbose_name = "Parley settings area"

    def ready(self) -> None:
        from inbox.settings_area import signals  # noqa: F401 - connects the receivers
