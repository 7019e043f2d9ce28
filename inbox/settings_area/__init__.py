"""The admin workspace: the settings area under ``/settings/`` (admins; managers for the
configuration pages they edit).

Accounts and their health, OAuth connections, webhook set-up and archive, people, teams and
access, the audit log, and day-one configuration (labels, saved replies, chatbot, SLA, business
hours, auto-assignment, surveys). Views are thin; the rules live in the service modules here
(``health``, ``oauth``, ``accounts``, ``people``, ``audit``, ``configure``).
"""
