"""On PostgreSQL the database itself refuses to change or delete audit entries.

The one update allowed is the one Django makes when a user is deleted: the entry's actor
becomes NULL, everything else stays. (TRUNCATE, which only the database owner's tools use,
is not a row change.) On SQLite the ORM guard in partners/audit.py applies."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_trail_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The audit trail cannot be changed or deleted.';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_trail_immutable ON auditlog_logentry;
CREATE TRIGGER audit_trail_immutable BEFORE UPDATE OR DELETE ON auditlog_logentry
    FOR EACH ROW EXECUTE FUNCTION audit_trail_immutable();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_trail_immutable ON auditlog_logentry;
DROP FUNCTION IF EXISTS audit_trail_immutable();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_survey_mapping"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
