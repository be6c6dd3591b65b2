"""The Auditors group: may look at everything the audit needs and change nothing.

Migrations `consent.0005` and `0007` create it, each with the permissions of its time; tests
that start from an emptied database call `create_auditors_group` again, as they do
`seed_registry`.
"""

from __future__ import annotations

from typing import Any

AUDITORS = "Auditors"

# (app label, codename): viewing, exporting and verifying only; never add, change or delete.
AUDITOR_PERMISSIONS = (
    ("consent", "view_consentrecord"),
    ("consent", "export_consentrecord"),
    ("consent", "verify_consentrecord"),
    ("consent", "view_statistics"),
    ("consent", "view_registeredcookie"),
    ("consent", "view_service"),
    ("consent", "view_unknowncookie"),
    ("consent", "view_logcheckpoint"),
    ("consent", "view_witness"),
    ("consent", "view_cosignature"),
    ("cookie_consent", "view_cookiegroup"),
    ("cookie_consent", "view_cookie"),
    ("policy", "view_policyversion"),
)


def create_auditors_group(
    apps: Any, permissions: tuple[tuple[str, str], ...] = AUDITOR_PERMISSIONS
) -> Any:
    """Return the Auditors group with exactly these permissions, creating what is missing.

    Takes an app registry so a migration can pass its historical one, and the permissions that
    exist at that migration (a later model's are not there yet). Permissions are normally created
    after all migrations ran; a fresh database needs them now, so they are created here.
    """
    from django.contrib.auth.management import create_permissions

    for label in {label for label, _ in permissions}:
        app_config = apps.get_app_config(label)
        # A migration's app configs have no models module, and create_permissions skips those.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=AUDITORS)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in permissions
        ]
    )
    return group


def delete_auditors_group(apps: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name=AUDITORS).delete()
