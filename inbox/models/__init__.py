"""The inbox domain's models, one module per subject. Every write goes through the services;
these classes only describe the data. Import them from here (``from inbox.models import
Conversation``): Django finds an app's models through this package.

The SLA (``sla.models``), the reports (``reports.models``) and the settings area
(``inbox.settings_area.models``) own their models; docs/layout.md maps the whole house.
"""

from inbox.models.accounts import (
    AgentPresence,
    HistoryImport,
    Platform,
    PlatformAccount,
    Team,
    User,
    time_zone_names,
    validate_time_zone,
)
from inbox.models.contacts import Contact, ContactIdentity
from inbox.models.conversations import (
    Attachment,
    Conversation,
    ConversationRead,
    Label,
    Message,
    Note,
    Reaction,
    SavedReply,
    SlaStatus,
)
from inbox.models.events import ConversationEvent, ListenerReceipt
from inbox.models.webhooks import WebhookEvent

__all__ = [
    "AgentPresence",
    "Attachment",
    "HistoryImport",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationEvent",
    "ConversationRead",
    "Label",
    "ListenerReceipt",
    "Message",
    "Note",
    "Platform",
    "PlatformAccount",
    "Reaction",
    "SavedReply",
    "SlaStatus",
    "Team",
    "User",
    "WebhookEvent",
    "time_zone_names",
    "validate_time_zone",
]
