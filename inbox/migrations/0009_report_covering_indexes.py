# Written by hand (the working tree holds other engineers' model changes): report indexes that
# carry every column the report queries read, for index-only scans.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0008_account_outbound_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="replymetric", name="replymetric_replied"),
        migrations.AddIndex(
            model_name="replymetric",
            index=models.Index(
                fields=[
                    "replied_at",
                    "sender_kind",
                    "platform",
                    "account",
                    "team",
                    "agent",
                    "seconds",
                    "business_seconds",
                ],
                name="replymetric_replied_cover",
            ),
        ),
        migrations.RemoveIndex(model_name="volumehour", name="volumehour_hour"),
        migrations.AddIndex(
            model_name="volumehour",
            index=models.Index(
                fields=[
                    "hour",
                    "platform",
                    "account",
                    "team",
                    "agent",
                    "messages_in",
                    "messages_out",
                ],
                name="volumehour_hour_cover",
            ),
        ),
    ]
