"""Consent records go in monthly partitions (issue 15): PostgreSQL declarative partitioning,
by RANGE of `created_at`, one partition a calendar month (UTC), plus a DEFAULT partition that
takes any row whose month has none, so a write never fails for want of one.

Everything here is frozen SQL. The table is rebuilt set-based: the old one is renamed, the new
partitioned one made like it, one partition a month from the oldest record's month to three
months ahead (later months come from `manage.py consent_partitions`, consent.partitions), the
rows copied in one INSERT … SELECT with every column (their IDs and `txid` included, so the log's
leaves and the integrator's cursor still name them), and the indexes built after the copy.

The primary key becomes (id, created_at), as PostgreSQL requires of a partitioned table; the
sequence goes on where the old one stopped, and the runtime role may no longer name `id` (or
`txid`) in an INSERT, so every ID still comes from the sequence and stays unique. Every invariant
of 0002 and 0010 stays: the row trigger that refuses UPDATE from everyone and DELETE from all
but the owner is made on the partitioned table, which clones it to every partition, present and
future; the TRUNCATE trigger is on the table and on each partition; the runtime role keeps
SELECT and INSERT on the table and has nothing at all on any partition.
"""

from django.db import migrations

ROLE = "iportalis_runtime"
TABLE = "consent_consentrecord"
# Every column but `id` and `txid`, which come from their defaults: what the runtime may INSERT.
INSERTABLE = (
    "consent_id, created_at, event, surface, necessary, first_party, third_party, session, "
    "persistent, gpc, policy_version_id, policy_sha256, language, path, ip_hmac, user_agent"
)
AHEAD = 3  # months of empty partitions after the current one

# The indexes, key, foreign key and triggers, as 0001, 0002 and 0008 made them.
KEYS = f"""
CREATE INDEX consent_consentrecord_consent_id_bf30a9bc ON {TABLE} (consent_id);
CREATE INDEX consent_consentrecord_created_at_54a3df5c ON {TABLE} (created_at);
CREATE INDEX consent_consentrecord_policy_version_id_ffdf5ada ON {TABLE} (policy_version_id);
CREATE INDEX consent_consentrecord_txid ON {TABLE} (txid, id);
ALTER TABLE {TABLE} ADD CONSTRAINT consent_consentrecor_policy_version_id_ffdf5ada_fk_policy_po
    FOREIGN KEY (policy_version_id) REFERENCES policy_policyversion (id)
    DEFERRABLE INITIALLY DEFERRED;
CREATE TRIGGER consent_record_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION consent_record_append_only();
CREATE TRIGGER consent_record_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION consent_record_append_only();
"""

# Rename the table and its sequence out of the way, make the new one like it (columns, NOT
# NULL, CHECK, defaults, identity), copy the rows and carry the sequence on.
SWAP = """
    ALTER TABLE {table} RENAME TO {table}_old;
    ALTER SEQUENCE {table}_id_seq RENAME TO {table}_old_id_seq;
    CREATE TABLE {table} (LIKE {table}_old
        INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY) {partitioned};
"""
COPY = """
    INSERT INTO {table} SELECT * FROM {table}_old;
    SELECT last_value, is_called INTO seq_last, seq_called FROM {table}_old_id_seq;
    PERFORM setval(pg_get_serial_sequence('{table}', 'id'), seq_last, seq_called);
    DROP TABLE {table}_old;
"""

FORWARD = f"""
DO $$
DECLARE
    this_month timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
    month timestamp;
    part text;
    seq_last bigint;
    seq_called boolean;
BEGIN
    -- The rename would take this lock anyway: reads and writes of the records wait for the end.
    LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE;
    {SWAP.format(table=TABLE, partitioned="PARTITION BY RANGE (created_at)")}
    SELECT least(date_trunc('month', min(created_at) AT TIME ZONE 'UTC'), this_month)
        INTO month FROM {TABLE}_old;
    month := coalesce(month, this_month);
    WHILE month <= this_month + interval '{AHEAD} months' LOOP
        part := '{TABLE}_p' || to_char(month, 'YYYYMM');
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF {TABLE} FOR VALUES FROM (%L) TO (%L)',
            part, month AT TIME ZONE 'UTC', (month + interval '1 month') AT TIME ZONE 'UTC');
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
            'FOR EACH STATEMENT EXECUTE FUNCTION consent_record_append_only()',
            part || '_no_truncate', part);
        month := month + interval '1 month';
    END LOOP;
    CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
    CREATE TRIGGER {TABLE}_default_no_truncate BEFORE TRUNCATE ON {TABLE}_default
        FOR EACH STATEMENT EXECUTE FUNCTION consent_record_append_only();
    {COPY.format(table=TABLE)}
    ALTER TABLE {TABLE} ADD CONSTRAINT consent_consentrecord_pkey PRIMARY KEY (id, created_at);
    {KEYS}
    REVOKE ALL ON {TABLE} FROM {ROLE};
    GRANT SELECT ON {TABLE} TO {ROLE};
    GRANT INSERT ({INSERTABLE}) ON {TABLE} TO {ROLE};
    GRANT USAGE, SELECT ON SEQUENCE {TABLE}_id_seq TO {ROLE};
    FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = '{TABLE}'::regclass LOOP
        EXECUTE format('REVOKE ALL ON %I FROM {ROLE}', part);
    END LOOP;
END;
$$;
ANALYZE {TABLE};
"""

BACKWARD = f"""
DO $$
DECLARE
    seq_last bigint;
    seq_called boolean;
BEGIN
    LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE;
    {SWAP.format(table=TABLE, partitioned="")}
    {COPY.format(table=TABLE)}
    ALTER TABLE {TABLE} ADD CONSTRAINT consent_consentrecord_pkey PRIMARY KEY (id);
    {KEYS}
    REVOKE ALL ON {TABLE} FROM {ROLE};
    GRANT SELECT, INSERT ON {TABLE} TO {ROLE};
    GRANT USAGE, SELECT ON SEQUENCE {TABLE}_id_seq TO {ROLE};
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("consent", "0010_runtime_role")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
