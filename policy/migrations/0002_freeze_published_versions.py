"""Make PostgreSQL itself refuse to change or delete a published policy version.

The model refuses too, but a trigger also stops queryset.update(), raw SQL and any other client,
which is what lets an auditor trust that a published version is exactly what visitors saw.
"""

from django.db import migrations

FREEZE = """
CREATE FUNCTION policy_version_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'published' THEN
        RAISE EXCEPTION 'policy version % (%) is published and frozen; clone it into a draft',
            OLD.number, OLD.language
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER policy_version_frozen
    BEFORE UPDATE OR DELETE ON policy_policyversion
    FOR EACH ROW EXECUTE FUNCTION policy_version_frozen();
"""

THAW = """
DROP TRIGGER policy_version_frozen ON policy_policyversion;
DROP FUNCTION policy_version_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]

    operations = [migrations.RunSQL(FREEZE, THAW)]
