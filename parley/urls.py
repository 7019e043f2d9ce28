from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("connectors.urls")),
    path("", include("inbox.api.urls")),
    path("", include("inbox.urls")),
]
