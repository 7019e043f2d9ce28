"""Satisfaction surveys: each account's settings (the settings area's ``/settings/surveys/``).
Asking customers when a conversation is resolved comes with issue 18 and reads these."""
