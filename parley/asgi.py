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

from inbox.routing import websocket_urlpatterns  # noqa: E402
from inbox.webhook_views import asgi_webhook  # noqa: E402
from parley import aio, scheduler  # noqa: E402

WEBHOOKS_PREFIX = "/webhooks/"


async def http_application(scope, receive, send) -> None:
    path = scope["path"].removeprefix(scope.get("root_path", ""))
    # Platforms' servers, not browsers: answered without Django's handler and middleware
    # (``inbox.webhook_views.asgi_webhook`` says why).
    app = asgi_webhook if path.startswith(WEBHOOKS_PREFIX) else django_asgi_app
    await app(scope, receive, send)


async def lifespan_application(scope, receive, send) -> None:
    """The server's start and stop (uvicorn's ASGI lifespan): without a broker this process
    runs the periodic schedule itself (``parley.scheduler``); with one, beat does. At the stop,
    the event loop's database and Redis clients are closed (``parley.aio``)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scheduler.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(scheduler.stop)
            await aio.close()
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
