from django.apps import AppConfig


class ReportsConfig(AppConfig):
    # Report metrics, daily rollups, the reports page and its API. The models moved here from
    # inbox with their tables (migrations/0001_initial.py).
    name = "reports"
    verbose_name = "Reports"
