"""Instagram Direct (an Instagram professional account) through the Messenger API for
Instagram (Page token, graph.facebook.com) or the Instagram API with Instagram Login (Instagram
user token; set the account option ``graph_url`` to ``https://graph.instagram.com/v21.0``).

``connect_account instagram --external-id IG_ACCOUNT_ID --name NAME
--credential access_token=TOKEN [--credential app_secret=SECRET]
[--credential human_agent=true]``. Shared behaviour lives in ``connectors.meta``.
"""

from __future__ import annotations

from connectors.base import Person
from connectors.meta import graph
from connectors.meta.connector import MetaConnector
from connectors.meta.rules import meta_rules
from inbox.models import Platform, PlatformAccount


class InstagramConnector(MetaConnector):
    platform = Platform.INSTAGRAM
    token_key = "access_token"  # noqa: S105 - a credential name, not a secret
    comment_reply_edge = "replies"
    # Text under 1000 characters; one attachment per message.
    # One message to several contacts at once: at most 15 recipients on Instagram.
    rules = meta_rules(max_text_length=1000, attachments_per_message=1, max_recipients_per_send=15)

    def messages_path(self, account: PlatformAccount) -> str:
        # `me` is the Page linked to the account (Page token) or the account itself
        # (Instagram-Login token): both send from the Instagram account.
        return "me/messages"

    def fetch_profile(self, account: PlatformAccount, platform_user_id: str) -> Person | None:
        data = graph.call(
            account, "GET", platform_user_id, params={"fields": "name,username,profile_pic"}
        )
        return Person(
            platform_user_id=platform_user_id,
            name=str(data.get("name") or ""),
            username=str(data.get("username") or ""),
            avatar_url=str(data.get("profile_pic") or ""),
        )

    def check_connection(self, account: PlatformAccount) -> str:
        self._require_token(account)
        data = graph.call(
            account, "GET", account.external_id, params={"fields": "id,username,name"}
        )
        username = str(data.get("username") or "")
        return (
            f"@{username}"
            if username
            else f"Instagram account {data.get('name') or account.external_id}"
        )
