"""What browsers ask of every site: the favicon at its fixed address and the web app manifest
(so Parley can be added to a phone's home screen and opens without the browser's bars)."""

from __future__ import annotations

import json

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.views.decorators.http import require_safe

THEME_COLOR = "#111827"  # the top bar's colour (static/css/parley.css)


@require_safe
def favicon(request: HttpRequest) -> FileResponse:
    # Browsers ask /favicon.ico whatever the page links; the icons live with the static files.
    path = finders.find("icons/favicon.ico")
    if path is None:
        raise Http404("No favicon")
    response = FileResponse(open(path, "rb"), content_type="image/x-icon")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def manifest(request: HttpRequest) -> HttpResponse:
    icons = [
        {"src": static(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    icons.append(
        {
            "src": static("icons/icon-maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        }
    )
    body = {
        "name": "Parley",
        "short_name": "Parley",
        "description": "Every customer message, one inbox.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f9fafb",
        "theme_color": THEME_COLOR,
        "icons": icons,
    }
    response = HttpResponse(json.dumps(body), content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response
