"""Sign-in failures are counted by django-axes (its own tables) instead of LoginFailure."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0012_status_events_from_stored"),
    ]

    operations = [
        migrations.DeleteModel(name="LoginFailure"),
    ]
