"""Sign-in failures are counted by django-axes (its own tables) instead of LoginFailure."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_client_site_status_covering"),
    ]

    operations = [
        migrations.DeleteModel(name="LoginFailure"),
    ]
