"""``/settings/webhooks/``: the admins' page of outbound webhooks."""

from django.urls import path

from outbound_webhooks import views

app_name = "outbound_webhooks"

urlpatterns = [
    path("", views.subscription_list, name="list"),
    path("<int:pk>/", views.subscription_deliveries, name="deliveries"),
    path("<int:pk>/active/", views.subscription_active, name="active"),
    path("<int:pk>/delete/", views.subscription_delete, name="delete"),
    path("<int:pk>/deliveries/<uuid:delivery>/replay/", views.delivery_replay, name="replay"),
]
