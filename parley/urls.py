from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from inbox import signin
from inbox.csp import csp_report

urlpatterns = [
    # Django admin signs in through /login/: the same second factor and throttling.
    path("admin/login/", signin.admin_login),
    path("admin/", admin.site.urls),
    path("csp-report/", csp_report, name="csp_report"),
    # Before login, the language switch sets Django's language cookie (set_language).
    path("i18n/", include("django.conf.urls.i18n")),
    # The scripts' translations, served as a script of our own origin (strict CSP: no inline).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("webhooks/", include("inbox.webhook_urls")),
    path("", include("automation.urls")),
    path("settings/webhooks/", include("outbound_webhooks.settings_urls")),
    path("settings/", include("inbox.settings_area.urls")),
    path("api/v1/settings/", include("inbox.settings_area.api_urls")),
    path("api/v1/webhooks/", include("outbound_webhooks.urls")),
    # Before reports.urls: its /api/v1/reports/<table>/ would take "csat".
    path("", include("surveys.urls")),
    path("", include("reports.urls")),
    path("", include("inbox.api.urls")),
    path("", include("notifications.urls")),
    path("", include("contacts.urls")),
    path("", include("outreach.urls")),
    path("", include("inbox.urls")),
]
