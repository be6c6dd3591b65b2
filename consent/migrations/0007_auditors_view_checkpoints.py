"""Auditors may also view the retention purge's chain checkpoints.

Frozen like 0005: the model's content type and permissions, named as Django's
`create_permissions` named them here, are created with the historical models only.
"""

from django.db import migrations

AUDITORS = "Auditors"
MODEL = "chaincheckpoint"
VERBOSE_NAME = "chain checkpoint"
DEFAULT_ACTIONS = ("add", "change", "delete", "view")


def view_permission(apps):
    """Return the permission to view chain checkpoints, creating the model's that are missing."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label="consent", model=MODEL)
    for action in DEFAULT_ACTIONS:
        Permission.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_{MODEL}",
            defaults={"name": f"Can {action} {VERBOSE_NAME}"},
        )
    return Permission.objects.get(content_type=content_type, codename=f"view_{MODEL}")


def add(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=AUDITORS)
    group.permissions.add(view_permission(apps))


def remove(apps, schema_editor):
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=AUDITORS)
    group.permissions.remove(view_permission(apps))


class Migration(migrations.Migration):
    dependencies = [("consent", "0006_chaincheckpoint")]

    operations = [migrations.RunPython(add, remove)]
