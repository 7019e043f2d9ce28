from django.urls import path

from outbound_webhooks import api

urlpatterns = [
    path("", api.SubscriptionList.as_view(), name="api-webhooks"),
    path("<int:pk>/", api.SubscriptionDetail.as_view(), name="api-webhook"),
    path("<int:pk>/deliveries/", api.DeliveryList.as_view(), name="api-webhook-deliveries"),
    path(
        "<int:pk>/deliveries/<uuid:delivery>/replay/",
        api.DeliveryReplay.as_view(),
        name="api-webhook-replay",
    ),
]
