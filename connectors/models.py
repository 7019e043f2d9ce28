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
