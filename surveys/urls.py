from django.urls import path

from surveys import api

app_name = "surveys"

urlpatterns = [
    path("api/v1/reports/csat/", api.CsatView.as_view(), name="api-csat"),
]
