from django.apps import AppConfig


class SlaConfig(AppConfig):
    # Business hours, SLA policies and the timers' records. The models moved here from inbox
    # with their tables (migrations/0001_initial.py); the timers react to the inbox's domain
    # events through inbox.listeners.
    name = "sla"
    verbose_name = "SLA and business hours"
