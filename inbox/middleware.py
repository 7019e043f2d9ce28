"""Times on every page in the signed-in agent's own time zone (``User.time_zone``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class AgentTimeZoneMiddleware:
    """Django's documented way: activate the user's zone for the request, so templates and
    forms read and write local times in it; deactivated after, so the zone never outlives its
    request in the thread (tests and task code that run there next)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone = user.zone if user is not None and user.is_authenticated else None
        # Only for this request: the thread serves other requests and tasks after it.
        with timezone.override(zone):
            return self.get_response(request)


class AgentLanguageMiddleware:
    """The signed-in agent's chosen language (``User.language``) for the request, over what
    ``LocaleMiddleware`` picked from the browser; scoped like the time zone above. A blank
    choice keeps the browser's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = user.language if user is not None and user.is_authenticated else ""
        if not language:
            return self.get_response(request)
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        # LocaleMiddleware only sets the header when it is missing: this one tells the truth.
        response.headers["Content-Language"] = language
        return response
