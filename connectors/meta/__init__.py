"""What Messenger and Instagram share: Meta's webhook envelope and signature, the Graph API
client with its error classification, the Send API body, and the messaging-window rules.

``connectors.messenger`` and ``connectors.instagram`` are thin subclasses of
``connectors.meta.connector.MetaConnector``.
"""
