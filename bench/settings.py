"""Production settings plus one extra URL: an empty view, the ceiling of the benchmark."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
