"""ASGI entry point: HTTP (pages, API, webhooks, static files) and websockets in one process."""

import asyncio
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.handlers.exception import convert_exception_to_response  # noqa: E402

from inbox.routing import websocket_urlpatterns  # noqa: E402
from parley import scheduler  # noqa: E402

WEBHOOKS_PREFIX = "/webhooks/"


class WebhookHandler(ASGIHandler):
    """``/webhooks/``: platforms' servers calling, not browsers. The middleware has nothing to
    do for them (no session, login, cookies or framing; the views are CSRF-exempt and check
    their own signatures), and under ASGI each of Django's middleware costs two thread hops
    per request: the acknowledgement the platform waits for comes from the URL resolver and
    the view alone. Request signals (database connections), error responses and logging are
    Django's as for every request."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        get_response = self._get_response_async if is_async else self._get_response
        self._middleware_chain = convert_exception_to_response(get_response)


webhook_asgi_app = WebhookHandler()


async def http_application(scope, receive, send) -> None:
    path = scope["path"].removeprefix(scope.get("root_path", ""))
    app = webhook_asgi_app if path.startswith(WEBHOOKS_PREFIX) else django_asgi_app
    await app(scope, receive, send)


async def lifespan_application(scope, receive, send) -> None:
    """The server's start and stop (uvicorn's ASGI lifespan): without a broker this process
    runs the periodic schedule itself (``parley.scheduler``); with one, beat does."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scheduler.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(scheduler.stop)
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        "http": http_application,
        "lifespan": lifespan_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Everything imported and built so far lives as long as the process: out of the collector's
# scans (a full collection over Django's startup objects is a pause on some request).
gc.freeze()
