from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # Models are only importable once apps are ready: these imports cannot be at the top.
        from connectors.webhooks import webhook_archived
        from inbox.tasks import request_ingest_pass

        # Connectors archive webhook bodies without knowing who ingests them: the inbox does.
        webhook_archived.connect(request_ingest_pass, dispatch_uid="inbox.ingest-pass")
