from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        # The listeners' table receives every recorded domain event: services record events
        # and never import their followers (inbox.events, inbox.listeners).
        from inbox import events, listeners

        events.set_dispatcher(listeners.dispatch_on_commit)
