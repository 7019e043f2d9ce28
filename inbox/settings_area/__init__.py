"""The admin workspace: the settings area under ``/settings/`` (admins only).

Accounts and their health, OAuth connections, webhook set-up and archive, people, teams and
access, and the audit log. Views are thin; the rules live in the service modules here
(``health``, ``oauth``, ``accounts``, ``people``, ``audit``).
"""
