"""Publish iPortalis's cookie policy of 25 July 2022 as version 1, so a fresh install shows it."""

from django.db import migrations

from policy.seed import publish_seed_policy


def publish_seed(apps, schema_editor):
    publish_seed_policy(apps.get_model("policy", "PolicyVersion"))


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_freeze_published_versions")]

    # Going back leaves the row: a published version may not be deleted, not even by a migration.
    operations = [migrations.RunPython(publish_seed, migrations.RunPython.noop)]
