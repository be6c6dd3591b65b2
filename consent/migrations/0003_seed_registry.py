"""Create the five categories and a registry that shows every one of them at work.

Runs before the policy's seed migration, so version 1 of the policy is published with the real
table of cookies in use.
"""

from django.db import migrations

from consent.seed import seed_registry


def seed(apps, schema_editor):
    seed_registry(apps)


class Migration(migrations.Migration):
    dependencies = [("consent", "0002_append_only_records")]
    run_before = [("policy", "0003_seed_policy")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
