from django.urls import path

from reports import api, views

app_name = "reports"

urlpatterns = [
    path("reports/", views.reports_page, name="page"),
    path("reports/export/<slug:table>.csv", views.export_csv, name="export"),
    path("api/v1/reports/summary/", api.SummaryView.as_view(), name="api-summary"),
    path("api/v1/reports/<slug:table>/", api.TableView.as_view(), name="api-table"),
]
