from django.db import models
from django.utils import timezone


class SandboxOutbox(models.Model):
    """What the sandbox platform 'received' from Parley: the simulated platform's side of a send."""

    account = models.ForeignKey("inbox.PlatformAccount", on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=64, unique=True)
    recipient_id = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "sandbox outbox"


class LinkedInNotification(models.Model):
    """Every LinkedIn organisation notification Parley applied, once: LinkedIn retries
    deliveries, and the notificationId is the documented deduplication key."""

    account = models.ForeignKey("inbox.PlatformAccount", on_delete=models.CASCADE, related_name="+")
    notification_id = models.CharField(max_length=64)
    # LIKE, COMMENT, SHARE, SHARE_MENTION, ADMIN_COMMENT, COMMENT_EDIT, COMMENT_DELETE
    action = models.CharField(max_length=32)
    post_urn = models.CharField(max_length=255, blank=True)
    actor_urn = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "notification_id"], name="linkedin_notification_uniq"
            )
        ]


class LinkedInPost(models.Model):
    """A Company Page post as the notifications describe it: likes and shares are counted here
    (they are not conversations); comments and mentions also become comment conversations."""

    account = models.ForeignKey("inbox.PlatformAccount", on_delete=models.CASCADE, related_name="+")
    post_urn = models.CharField(max_length=255)
    text = models.TextField(blank=True)
    likes = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    mentions = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "post_urn"], name="linkedin_post_uniq")
        ]

    def __str__(self) -> str:
        return self.post_urn
