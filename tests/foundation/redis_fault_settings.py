"""The test settings with the production caches (Redis from REDIS_URL, rate limits falling over
to the database): for the gunicorn started by tests/foundation/test_redis_faults.py."""

from config.settings import base
from config.settings.test import *  # noqa: F403

CACHES = base.CACHES
