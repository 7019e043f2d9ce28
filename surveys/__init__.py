"""Satisfaction surveys: each account's settings (the settings area's ``/settings/surveys/``),
asking for a rating when a conversation is resolved and recording the answers (``services``,
run by the listener in ``listeners``; ingest recognises answers through ``answers``), and the
CSAT report (``reports``, ``api``). docs/reports.md, "Satisfaction surveys"."""
