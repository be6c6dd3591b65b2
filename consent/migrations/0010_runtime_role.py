"""The app's runtime role may only read and append what is evidence (issue 14, consent.roles).

Everything here is frozen SQL. The group role iportalis_runtime is created if the migrating role
may (a superuser, or a role with CREATEROLE); otherwise the database administrator creates it
first (README, "Database roles"). The runtime gets SELECT, INSERT, UPDATE and DELETE on the
ordinary tables of the schema, now and, by default privileges, on every table the owner creates
later; on the consent records, the log's leaves, tiles, checkpoints and cosignatures only
SELECT and INSERT; on the purges and Django's migration history only SELECT. It never gets
TRUNCATE, REFERENCES or TRIGGER, and owns nothing, so it can neither disable a trigger nor drop
a table.

The append-only triggers lose their escape hatches, the `consent.purge` and
`consent.allow_truncate` settings any session could set. Records still refuse UPDATE from
everyone; DELETE (the retention purge) and TRUNCATE (emptying a test database) are let through
only for the tables' owner. The log's tables refuse UPDATE and DELETE from everyone, and
TRUNCATE from all but their owner.
"""

from django.db import migrations

ROLE = "iportalis_runtime"
APPEND_ONLY = (
    "consent_consentrecord",
    "consent_logleaf",
    "consent_logtile",
    "consent_logcheckpoint",
    "consent_cosignature",
)
READ_ONLY = ("consent_consentpurge", "django_migrations")

CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
        BEGIN
            CREATE ROLE {ROLE} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE EXCEPTION 'the role {ROLE} does not exist, and % may not create it', current_user
                USING HINT = 'As the database administrator: CREATE ROLE {ROLE} NOLOGIN; then '
                    'GRANT {ROLE} TO the user of DATABASE_URL (README, "Database roles").';
        END;
    END IF;
END;
$$;
"""

GRANTS = f"""
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {ROLE}', current_schema());
    EXECUTE format(
        'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {ROLE}',
        current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {ROLE}', current_schema());
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
        'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ROLE}', current_schema());
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO {ROLE}',
        current_schema());
END;
$$;
REVOKE UPDATE, DELETE ON {", ".join(APPEND_ONLY)} FROM {ROLE};
REVOKE INSERT, UPDATE, DELETE ON {", ".join(READ_ONLY)} FROM {ROLE};
"""

UNGRANT = f"""
DO $$
BEGIN
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I '
        'REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {ROLE}', current_schema());
    EXECUTE format(
        'ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE USAGE, SELECT ON SEQUENCES FROM {ROLE}',
        current_schema());
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {ROLE}', current_schema());
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM {ROLE}', current_schema());
END;
$$;
"""

# Whether the current role owns (or has the privileges of the owner of) the triggering table.
_OWNER = "pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')"

TRIGGERS = f"""
CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND {_OWNER} THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' AND {_OWNER} THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'consent records are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE OR REPLACE FUNCTION consent_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND {_OWNER} THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the consent log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""

# The functions as migrations 0002 and 0008 left them.
OLD_TRIGGERS = """
CREATE OR REPLACE FUNCTION consent_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION consent_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('consent.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the consent log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0009_consentpurge"),
        # Django's own tables exist before the grants; later ones get the default privileges.
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("sessions", "0001_initial"),
        ("cookie_consent", "0004_cookie_natural_key"),
        ("policy", "0006_policy_version_2_fr"),
    ]

    operations = [
        migrations.RunSQL(CREATE_ROLE, migrations.RunSQL.noop),
        migrations.RunSQL(GRANTS, UNGRANT),
        migrations.RunSQL(TRIGGERS, OLD_TRIGGERS),
    ]
