from django.contrib import admin
from django.urls import include, path

from inbox import signin
from inbox.csp import csp_report

urlpatterns = [
    # Django admin signs in through /login/: the same second factor and throttling.
    path("admin/login/", signin.admin_login),
    path("admin/", admin.site.urls),
    path("csp-report/", csp_report, name="csp_report"),
    path("webhooks/", include("inbox.webhook_urls")),
    path("settings/", include("inbox.settings_area.urls")),
    path("api/v1/settings/", include("inbox.settings_area.api_urls")),
    path("", include("reports.urls")),
    path("", include("inbox.api.urls")),
    path("", include("notifications.urls")),
    path("", include("contacts.urls")),
    path("", include("campaigns.urls")),
    path("", include("inbox.urls")),
]
