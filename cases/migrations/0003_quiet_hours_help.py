from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_arv_followup"),
    ]

    operations = [
        migrations.AlterField(
            model_name="site",
            name="quiet_hours_end",
            field=models.TimeField(
                default="07:00",
                help_text="No SMS to clients between start and end; equal: none.",
                verbose_name="quiet hours end",
            ),
        ),
    ]
