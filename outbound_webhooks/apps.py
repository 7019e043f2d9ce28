from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboundWebhooksConfig(AppConfig):
    name = "outbound_webhooks"
    verbose_name = _("Outbound webhooks")
