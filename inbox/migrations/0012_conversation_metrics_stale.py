# The report metrics' refresh mark (inbox.reports.metrics): metrics are recomputed in a pass
# over the conversations marked, not by the write that changed them.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0011_report_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="metrics_stale_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("metrics_stale_since__isnull", False)),
                fields=["metrics_stale_since"],
                name="conv_metrics_stale",
            ),
        ),
    ]
