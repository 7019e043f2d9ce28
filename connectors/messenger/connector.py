"""Facebook Messenger (a Facebook Page's inbox) through the Graph API with a Page token.

``connect_account messenger --external-id PAGE_ID --name NAME
--credential page_access_token=TOKEN [--credential app_secret=SECRET]
[--credential human_agent=true]``. Shared behaviour lives in ``connectors.meta``.
"""

from __future__ import annotations

from connectors.base import DeliveryError, Person
from connectors.meta import graph
from connectors.meta.connector import MetaConnector
from connectors.meta.rules import meta_rules
from inbox.models import Platform, PlatformAccount


class MessengerConnector(MetaConnector):
    platform = Platform.MESSENGER
    token_key = "page_access_token"  # noqa: S105 - a credential name, not a secret
    comment_reply_edge = "comments"
    # Text under 2000 characters; one attachment per message.
    # Messenger sets no per-send cap (each contact must have written first, and the page's
    # 300/s send rate applies); Parley bounds one outreach at 100 contacts.
    rules = meta_rules(max_text_length=2000, attachments_per_message=1, max_recipients_per_send=100)

    def fetch_profile(self, account: PlatformAccount, platform_user_id: str) -> Person | None:
        data = graph.call(
            account, "GET", platform_user_id, params={"fields": "first_name,last_name,profile_pic"}
        )
        name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        return Person(
            platform_user_id=platform_user_id,
            name=name or str(data.get("name") or ""),
            avatar_url=str(data.get("profile_pic") or ""),
        )

    def check_connection(self, account: PlatformAccount) -> str:
        self._require_token(account)
        data = graph.call(account, "GET", "me", params={"fields": "id,name"})
        page_id, name = str(data.get("id") or ""), str(data.get("name") or "")
        if page_id and page_id != account.external_id:
            raise DeliveryError(
                f"This token belongs to Page {name} ({page_id}), not to {account.external_id}.",
                permanent=True,
                code="wrong_page",
            )
        return f"Page {name} ({page_id or account.external_id})"
