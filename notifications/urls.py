from django.urls import path

from notifications import api, views

app_name = "notifications"

urlpatterns = [
    path("api/v1/notifications/", api.NotificationList.as_view(), name="api-list"),
    path("api/v1/notifications/read/", api.NotificationRead.as_view(), name="api-read"),
    path("notifications/preferences/", views.save_preferences, name="preferences"),
    path("notifications/test/", views.send_test, name="test"),
    path(
        "notifications/mentionable/<int:conversation_id>/",
        views.mentionable,
        name="mentionable",
    ),
]
