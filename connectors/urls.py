from django.urls import path

from connectors.views import webhook

app_name = "webhooks"

urlpatterns = [
    path("sandbox/<int:account_id>/", webhook, {"source": "sandbox"}, name="sandbox"),
]
