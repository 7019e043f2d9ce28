from django.urls import path

from connectors.meta import views as meta_views
from connectors.views import webhook

app_name = "webhooks"

urlpatterns = [
    path("sandbox/<int:account_id>/", webhook, {"source": "sandbox"}, name="sandbox"),
    path("x/", webhook, {"source": "x"}, name="x"),
    path("linkedin/", webhook, {"source": "linkedin"}, name="linkedin"),
    # Messenger and Instagram share one endpoint; the body's `object` picks the platform.
    path("meta/", meta_views.webhook, name="meta"),
]
