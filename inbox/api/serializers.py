from rest_framework import serializers

from inbox.models import Attachment, Conversation, Message, Note


class IdentitySerializer(serializers.Serializer):
    platform = serializers.CharField()
    account = serializers.IntegerField()
    platform_user_id = serializers.CharField()
    username = serializers.CharField()


class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    username = serializers.CharField()
    platform_user_id = serializers.CharField()
    # The person on every platform (accounts the caller may see): a merged contact's others.
    identities = IdentitySerializer(many=True)


class ConversationSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="account.platform", read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True)
    assignee = serializers.IntegerField(source="assignee_id", read_only=True, allow_null=True)
    contact = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "platform",
            "account",
            "kind",
            "status",
            "assignee",
            "contact",
            "last_message_at",
            "last_inbound_at",
        ]

    def get_contact(self, conversation: Conversation) -> dict:
        contact = conversation.contact
        # Account ids the caller may see (None: all), set by the view.
        visible = self.context.get("visible_accounts")
        identity = next(
            (i for i in conversation.participants.all() if i.contact_id == contact.pk), None
        )
        return ContactSerializer(
            {
                "id": contact.pk,
                "name": contact.name,
                "username": identity.username if identity else "",
                "platform_user_id": identity.platform_user_id if identity else "",
                "identities": [
                    {
                        "platform": i.account.platform,
                        "account": i.account_id,
                        "platform_user_id": i.platform_user_id,
                        "username": i.username,
                    }
                    for i in contact.identities.all()
                    if visible is None or i.account_id in visible
                ],
            }
        ).data


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["kind", "url", "content_type"]

    def get_url(self, attachment: Attachment) -> str:
        # Stored media is served by Parley; platform CDN links expire.
        if attachment.file:
            request = self.context.get("request")
            url = attachment.file.url
            return request.build_absolute_uri(url) if request else url
        return attachment.url


class ReactionSerializer(serializers.Serializer):
    emoji = serializers.CharField()
    by = serializers.CharField()


class MessageSerializer(serializers.ModelSerializer):
    text = serializers.CharField(source="visible_text", read_only=True)
    error = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    reactions = ReactionSerializer(many=True, read_only=True)
    reply_to = serializers.IntegerField(source="reply_to_id", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "sender_kind",
            "text",
            "external_id",
            "status",
            "error",
            "attachments",
            "reactions",
            "reply_to",
            "is_deleted",
            "sent_at",
            "created_at",
        ]

    def get_error(self, message: Message) -> str | None:
        return message.error or None


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", read_only=True)
    note = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "note", "text", "author", "created_at"]

    def get_note(self, note: Note) -> bool:
        return True


class ReplyInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, trim_whitespace=True)
    note = serializers.BooleanField(default=False)


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.CharField()
    conversation = serializers.IntegerField()
    account = serializers.IntegerField()
    actor = serializers.IntegerField(allow_null=True, help_text="the user who did it, if any")
    data = serializers.DictField()
    at = serializers.CharField()
