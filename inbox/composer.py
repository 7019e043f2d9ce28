"""The composer's rules and its send: a reply with optional attachments, within the platform's
limits (``PlatformRules``), refused before anything is queued when it would not go through."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from connectors.base import PlatformRules
from connectors.registry import get_connector
from inbox import services
from inbox.models import Attachment, Conversation, Message, User

OUTBOUND_MEDIA_SALT = "parley.outbound-media"
# Platforms fetch an outbound attachment soon after the send; retries can take hours.
OUTBOUND_MEDIA_MAX_AGE = 7 * 24 * 3600


def rules_for(conversation: Conversation) -> PlatformRules:
    return get_connector(conversation.account.platform).rules


def attachment_kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return {
        "image": Attachment.Kind.IMAGE,
        "video": Attachment.Kind.VIDEO,
        "audio": Attachment.Kind.AUDIO,
    }.get(major, Attachment.Kind.FILE)


def check_files(conversation: Conversation, files: Sequence[UploadedFile]) -> None:
    rules = rules_for(conversation)
    name = conversation.account.get_platform_display()
    if len(files) > rules.attachments_per_message:
        raise services.ReplyRefused(
            "too_many_attachments",
            ngettext(
                "%(platform)s accepts %(count)d attachment per message.",
                "%(platform)s accepts %(count)d attachments per message.",
                rules.attachments_per_message,
            )
            % {"platform": name, "count": rules.attachments_per_message},
        )
    for upload in files:
        if upload.size > rules.max_attachment_bytes:
            raise services.ReplyRefused(
                "attachment_too_large",
                gettext("%(file)s is %(kb)d KB; %(platform)s accepts at most %(mb)d MB.")
                % {
                    "file": upload.name,
                    "kb": upload.size // 1024,
                    "platform": name,
                    "mb": rules.max_attachment_bytes // (1024 * 1024),
                },
            )


def outbound_media_url(attachment: Attachment) -> str:
    """A link the platform can fetch without a login: signed, expiring, one attachment."""
    token = signing.dumps(attachment.pk, salt=OUTBOUND_MEDIA_SALT)
    path = reverse("inbox:outbound-media", args=[token])
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{path}" if settings.PUBLIC_BASE_URL else path


def attachment_for_token(token: str) -> Attachment | None:
    try:
        pk = signing.loads(token, salt=OUTBOUND_MEDIA_SALT, max_age=OUTBOUND_MEDIA_MAX_AGE)
    except signing.BadSignature:
        return None
    return Attachment.objects.filter(pk=pk, message__direction=Message.Direction.OUTBOUND).first()


def send(
    *,
    conversation: Conversation,
    author: User,
    text: str,
    files: Sequence[UploadedFile] = (),
    base_url: str = "",
) -> Message:
    """Queue the reply and its attachments; call inside a transaction so delivery (on commit)
    sees the attachments. ``base_url`` makes attachment links absolute when PUBLIC_BASE_URL is
    not set."""
    check_files(conversation, files)
    message = services.queue_reply(
        conversation=conversation, author=author, text=text, has_attachments=bool(files)
    )
    for upload in files:
        content_type = (
            upload.content_type
            or mimetypes.guess_type(upload.name)[0]
            or "application/octet-stream"
        )
        attachment = Attachment(
            message=message,
            kind=attachment_kind(content_type),
            content_type=content_type,
            size=upload.size,
            name=upload.name[:300],
        )
        attachment.file.save(upload.name, upload, save=False)
        attachment.save()
        url = outbound_media_url(attachment)
        attachment.url = url if url.startswith("http") else f"{base_url.rstrip('/')}{url}"
        attachment.save(update_fields=["url"])
    return message
