import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from connectors.base import WebhookRejected
from connectors.registry import get_connector
from connectors.webhooks import rejection_response

log = logging.getLogger(__name__)


@csrf_exempt
def webhook(request: HttpRequest, source: str, **kwargs) -> HttpResponse:
    """Every platform webhook: the connector answers; refusals become their HTTP status."""
    try:
        return get_connector(source).handle_webhook(request, **kwargs)
    except WebhookRejected as exc:
        return rejection_response(exc)
