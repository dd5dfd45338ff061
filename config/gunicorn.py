"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi` (README "Production", bench).

Command-line options (`--workers`, `--bind`) override these.
"""

import os
import shutil
import tempfile

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))


# /metrics adds up the counters of all workers of this machine (prometheus_client's
# multiprocess mode) when this directory is set; a fresh one per server start by default.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="declinedesk-metrics-")


def on_exit(server):
    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Load the knowledge search index before the worker takes its first request: the stored
    one (built once by a task worker, mapped from a file), or built here if none is stored yet
    (≈ 2–3 s at 10,000 articles, which would otherwise be the first visitor's wait)."""
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
