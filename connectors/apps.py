from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self) -> None:
        from connectors.linkedin import checks as _linkedin_checks  # noqa: F401
        from connectors.meta import checks  # noqa: F401 - registers the Meta system checks
        from connectors.x import checks as _x_checks  # noqa: F401
