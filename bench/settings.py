"""Production settings plus one extra URL: an empty view, the ceiling of the benchmark."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Mail is built (templates, both languages) but not delivered: the benchmark has no SMTP server,
# and the console backend would print every message into the log.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
