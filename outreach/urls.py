"""The outreach pages (included from ``parley.urls``)."""

from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("outreach/", views.outreach_lists, name="lists"),
    path("outreach/<int:pk>/", views.outreach_detail, name="detail"),
    path("outreach/<int:pk>/send/", views.outreach_send, name="send"),
]
