"""Every URL of automation, included once from ``parley.urls``: the settings pages, the macro
endpoints of a conversation, and the REST API."""

from django.urls import path

from automation import api, views

app_name = "automation"

urlpatterns = [
    path("settings/automation/", views.rule_list, name="rules"),
    path("settings/automation/new/", views.rule_edit, name="rule_new"),
    path("settings/automation/<int:pk>/", views.rule_edit, name="rule"),
    path("settings/automation/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("settings/automation/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("settings/automation/macros/", views.macro_list, name="macros"),
    path("settings/automation/macros/new/", views.macro_edit, name="macro_new"),
    path("settings/automation/macros/<int:pk>/", views.macro_edit, name="macro"),
    path("settings/automation/macros/<int:pk>/delete/", views.macro_delete, name="macro_delete"),
    path("conversations/<int:pk>/macros/", views.conversation_macros, name="conversation_macros"),
    path("conversations/<int:pk>/macros/<int:macro_pk>/run/", views.run_macro, name="run_macro"),
    path("api/v1/automation-rules/", api.RuleList.as_view(), name="api_rules"),
    path("api/v1/automation-rules/dry-run/", api.RuleDryRun.as_view(), name="api_rule_dry_run"),
    path("api/v1/automation-rules/<int:pk>/", api.RuleDetail.as_view(), name="api_rule"),
    path("api/v1/macros/", api.MacroList.as_view(), name="api_macros"),
    path("api/v1/macros/<int:pk>/run/", api.MacroRun.as_view(), name="api_macro_run"),
]
