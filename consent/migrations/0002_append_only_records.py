"""Make PostgreSQL itself refuse to change or remove consent records.

UPDATE and DELETE are refused row by row; TRUNCATE is refused too. The one way past the guard is
the documented retention purge, which sets `consent.purge` for its own transaction only. Test
databases allow TRUNCATE (`consent.allow_truncate`) because Django empties tables that way between
tests.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION consent_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('consent.purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_setting('consent.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'consent records are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER consent_record_append_only
    BEFORE UPDATE OR DELETE ON consent_consentrecord
    FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();

CREATE TRIGGER consent_record_no_truncate
    BEFORE TRUNCATE ON consent_consentrecord
    FOR EACH STATEMENT EXECUTE FUNCTION consent_record_append_only();
"""

BACKWARD = """
DROP TRIGGER consent_record_no_truncate ON consent_consentrecord;
DROP TRIGGER consent_record_append_only ON consent_consentrecord;
DROP FUNCTION consent_record_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
