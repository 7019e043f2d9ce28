"""``/webhooks/…``: public contracts (the URLs platforms are configured with); one view."""

from django.urls import path

from inbox.webhook_views import webhook

app_name = "webhooks"

urlpatterns = [
    path("sandbox/<int:account_id>/", webhook, {"platform": "sandbox"}, name="sandbox"),
    path("x/", webhook, {"platform": "x"}, name="x"),
    path("linkedin/", webhook, {"platform": "linkedin"}, name="linkedin"),
    # Messenger and Instagram share one endpoint; the body's `object` picks the platform.
    path("meta/", webhook, {"platform": "meta"}, name="meta"),
]
