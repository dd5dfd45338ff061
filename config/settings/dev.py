"""Local development: DEBUG defaults to on. Anything set in the environment still wins."""

import os

os.environ.setdefault("DEBUG", "1")

from .base import *  # noqa: E402, F403
