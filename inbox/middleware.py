"""Times on every page in the signed-in agent's own time zone (``User.time_zone``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


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
