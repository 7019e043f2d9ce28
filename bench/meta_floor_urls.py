"""Parley's URLs plus ``/bench/floor/``: a plain Django view answering 200 with no database
work, through the same ASGI handler and middleware as the webhook. Bench only."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def floor(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("parley.urls")),
]
