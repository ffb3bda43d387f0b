from django.db import migrations, models


class Migration(migrations.Migration):
    """client_site_status_idx also carries the worker and the id: the caseload and cascade
    reports limit their per-client aggregates to a site's clients in care with an
    index-only scan instead of reading the client table (bench/README.md)."""

    dependencies = [
        ("cases", "0009_client_import"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="client", name="client_site_status_idx"),
        migrations.AddIndex(
            model_name="client",
            index=models.Index(fields=["site", "status", "assigned_social_worker", "id"], name="client_site_status_idx"),
        ),
    ]
