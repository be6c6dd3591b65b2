"""Retention purges become evident: each is a row of its own, append-only, and an entry of the
log, which tells verification a purge from a deletion (consent.purge)."""

from django.db import migrations, models

TABLE = "consent_consentpurge"
APPEND_ONLY = f"""
CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION consent_log_append_only();
CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION consent_log_append_only();
"""
APPEND_ONLY_BACKWARD = f"""
DROP TRIGGER {TABLE}_append_only ON {TABLE};
DROP TRIGGER {TABLE}_no_truncate ON {TABLE};
"""


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_merkle_log"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("before", models.DateTimeField(verbose_name="records created before")),
                ("purged_at", models.DateTimeField(verbose_name="purged at")),
                ("count", models.BigIntegerField(verbose_name="records removed")),
                (
                    "highest_id",
                    models.BigIntegerField(verbose_name="highest record ID purged so far"),
                ),
                ("tree_size", models.BigIntegerField(verbose_name="tree size when purged")),
                (
                    "purged_total",
                    models.BigIntegerField(verbose_name="records removed by every purge so far"),
                ),
                (
                    "purged_sha256",
                    models.CharField(
                        max_length=64, verbose_name="SHA-256 of every purged leaf index"
                    ),
                ),
            ],
            options={
                "verbose_name": "consent purge",
                "verbose_name_plural": "consent purges",
                "ordering": ["id"],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, APPEND_ONLY_BACKWARD),
    ]
