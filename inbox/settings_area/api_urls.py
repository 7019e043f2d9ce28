from django.urls import path

from inbox.settings_area import api

urlpatterns = [
    path("accounts/", api.AccountHealthList.as_view(), name="api-settings-accounts"),
    path("audit/", api.AuditList.as_view(), name="api-settings-audit"),
]
