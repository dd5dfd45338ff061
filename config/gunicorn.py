"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (README "Production", bench).

Command-line options (`--workers`, `--bind`) override these.
"""

import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))


def post_worker_init(worker):
    """Build the knowledge search index before the worker takes its first request: ≈ 2–3 s at
    10,000 articles, which would otherwise be the first visitor's wait."""
    from django.db import close_old_connections

    from knowledge import search

    try:
        search.get_index()
    except Exception:  # noqa: BLE001 - a missing table or database: the first search retries
        worker.log.exception("Could not build the search index at start-up")
    finally:
        close_old_connections()


class MaskingLogger(Logger):
    """gunicorn's error and access logs with card numbers masked (also URL-encoded ones in the
    request line) and API tokens hidden, like every log line of the app."""

    def setup(self, cfg):
        super().setup(cfg)
        from diagnosis.core.cards import CardNumberLogFilter

        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(CardNumberLogFilter())


logger_class = MaskingLogger
