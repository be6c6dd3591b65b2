"""WSGI entry point; production settings unless DJANGO_SETTINGS_MODULE says otherwise."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iportalis.settings.production")

application = get_wsgi_application()

# Integrate consent records into the signed log from this process (one batch at a time across all
# processes); CONSENT_LOG_INTEGRATOR = False leaves it to `manage.py integrate_log`.
from consent.log.integration import start_if_enabled  # noqa: E402

start_if_enabled()
