from django.urls import path

from inbox.settings_area import imports, views

app_name = "settings"

urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/", views.account_list, name="accounts"),
    path("accounts/connect/", views.connect, name="connect"),
    path("accounts/<int:pk>/", views.account_detail, name="account"),
    path("accounts/<int:pk>/check/", views.account_check, name="account_check"),
    path("accounts/<int:pk>/test-event/", views.account_test_event, name="account_test_event"),
    path("accounts/<int:pk>/credentials/", views.account_credentials, name="account_credentials"),
    path("accounts/<int:pk>/disconnect/", views.account_disconnect, name="account_disconnect"),
    path("accounts/<int:pk>/webhooks/", views.account_webhooks, name="account_webhooks"),
    path("accounts/<int:pk>/history/", imports.account_history, name="account_history"),
    path(
        "accounts/<int:pk>/history/cancel/",
        imports.account_history_cancel,
        name="account_history_cancel",
    ),
    path("webhooks/failed/", views.failed_webhooks, name="webhooks_failed"),
    path("oauth/<str:provider>/start/", views.oauth_start, name="oauth_start"),
    path("oauth/<str:provider>/callback/", views.oauth_callback, name="oauth_callback"),
    path("oauth/pending/<int:pk>/", views.oauth_choose, name="oauth_choose"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user"),
    path("users/<int:pk>/active/", views.user_active, name="user_active"),
    path(
        "users/<int:pk>/two-factor/reset/",
        views.user_two_factor_reset,
        name="user_two_factor_reset",
    ),
    path("teams/", views.team_list, name="teams"),
    path("teams/<int:pk>/", views.team_edit, name="team"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("audit/", views.audit_log, name="audit"),
    path("audit.csv", views.audit_csv, name="audit_csv"),
]
