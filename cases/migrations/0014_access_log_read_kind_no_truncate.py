"""Reads say whether they showed a list of clients or one (AccessLog.kind); on PostgreSQL a
statement-level trigger refuses TRUNCATE of the access log, as the row triggers of 0005
refuse UPDATE and DELETE. Only a session that sets `basodara.allow_access_log_truncate = on`
(the test suite's flush between tests) may empty it."""

from django.db import migrations, models

NO_TRUNCATE = """
CREATE OR REPLACE FUNCTION cases_accesslog_no_truncate() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('basodara.allow_access_log_truncate', true), '') <> 'on' THEN
        RAISE EXCEPTION 'the access log is append-only: TRUNCATE refused';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_accesslog_no_truncate BEFORE TRUNCATE ON cases_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION cases_accesslog_no_truncate();
"""
DROP = """
DROP TRIGGER IF EXISTS cases_accesslog_no_truncate ON cases_accesslog;
DROP FUNCTION IF EXISTS cases_accesslog_no_truncate();
"""


def forbid_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NO_TRUNCATE)


def allow_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0013_remove_login_failures_for_axes"),
    ]

    operations = [
        migrations.AddField(
            model_name="accesslog",
            name="kind",
            field=models.CharField(
                blank=True, choices=[("list", "List"), ("detail", "Detail")], default="", db_default="", max_length=10
            ),
        ),
        migrations.RunPython(forbid_truncate, allow_truncate),
    ]
