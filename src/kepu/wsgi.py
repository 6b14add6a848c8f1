import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
application = get_wsgi_application()

from kepu.core.checks import require_production_key  # noqa: E402  (needs the settings loaded above)

require_production_key()
