from rest_framework import serializers

from inbox.models import Attachment, Conversation, Label, Message, Note, SavedReply, User


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
    team = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    priority = serializers.SerializerMethodField()
    labels = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "platform",
            "account",
            "kind",
            "status",
            "assignee",
            "team",
            "priority",
            "labels",
            "snoozed_until",
            "contact",
            "last_message_at",
            "last_inbound_at",
        ]

    def get_priority(self, conversation: Conversation) -> str:
        return Conversation.Priority(conversation.priority).name.lower()

    def get_labels(self, conversation: Conversation) -> list[str]:
        return sorted(label.name for label in conversation.labels.all())

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


class ConversationPatchSerializer(serializers.Serializer):
    """What ``PATCH /api/v1/conversations/<id>/`` accepts (for the schema; ``inbox.triage``
    checks it and answers refusals with 422 ``{code, detail}``)."""

    status = serializers.ChoiceField(choices=["open", "pending", "resolved"], required=False)
    assignee = serializers.CharField(
        required=False, allow_null=True, help_text="a user id or username; null unassigns"
    )
    team = serializers.CharField(required=False, allow_null=True, help_text="a team name or null")
    priority = serializers.ChoiceField(choices=["low", "normal", "high", "urgent"], required=False)
    labels = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="the label names, all of them"
    )
    snoozed_until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="snooze until then; null unsnoozes"
    )


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class LabelSerializer(serializers.ModelSerializer):
    # Shown in style attributes: a hex colour and nothing else.
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)

    class Meta:
        model = Label
        fields = ["id", "name", "color"]
        read_only_fields = ["id"]
        # A taken name is a 422 ``label_exists`` (the view checks it, in any case).
        extra_kwargs = {"name": {"validators": []}}


class SavedReplySerializer(serializers.ModelSerializer):
    teams = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = SavedReply
        fields = ["id", "shortcut", "title", "text", "teams"]


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)
    teams = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = User
        fields = ["id", "username", "name", "role", "teams", "availability"]


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
