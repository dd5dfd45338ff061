"""`/metrics` in Prometheus format, and who may read it (also `/healthz?deep=1`).

- Requests: count and latency by view and method (django-prometheus middleware), database and
  cache timings as django-prometheus exports them.
- Background work, read from the queue itself at scrape time (so any web process answers for
  the whole deployment): tasks ready / running / failed, the oldest ready task's wait, results
  by status, outgoing mail by status.
- Tasks finished in this process by task and status (a counter fed by django-tasks' signal:
  with several processes per machine set PROMETHEUS_MULTIPROC_DIR, see config/gunicorn.py).

Readable by staff users and by clients in METRICS_ALLOWED_NETWORKS (default: this machine).
"""

import ipaddress
import logging
import os

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

TASKS_FINISHED = prometheus_client.Counter(
    "declinedesk_tasks_finished",
    "Background tasks finished in this process, by task and status.",
    ["task", "status"],
)


def allowed(request) -> bool:
    """Staff, or a client address in METRICS_ALLOWED_NETWORKS."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        address = None
    if address is not None:
        for network in settings.METRICS_ALLOWED_NETWORKS:
            try:
                if address in ipaddress.ip_network(network, strict=False):
                    return True
            except ValueError:
                continue
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


class QueueCollector:
    """Gauges read from the task queue and the mail outbox when Prometheus scrapes."""

    def describe(self):
        """The metric names (without reading the database: registration happens at import)."""
        yield GaugeMetricFamily("declinedesk_task_queue", "", labels=["state"])
        yield GaugeMetricFamily("declinedesk_task_queue_oldest_wait_seconds", "")
        yield GaugeMetricFamily("declinedesk_mail", "", labels=["status"])

    def collect(self):
        from django.db import DatabaseError
        from django.db.models import Count

        from config.tasks import queue_stats
        from diagnosis.models import OutgoingMail

        try:
            stats = queue_stats()
            mail = dict(
                OutgoingMail.objects.values("status")
                .annotate(n=Count("pk"))
                .values_list("status", "n")
            )
        except DatabaseError:
            logger.exception("metrics: the task queue could not be read")
            return
        depth = GaugeMetricFamily(
            "declinedesk_task_queue",
            "Background tasks by state (queue depth = ready).",
            labels=["state"],
        )
        for state in ("ready", "running", "failed"):
            depth.add_metric([state], stats[state])
        yield depth
        yield GaugeMetricFamily(
            "declinedesk_task_queue_oldest_wait_seconds",
            "How long the oldest ready task has waited.",
            value=stats["oldest_wait_seconds"],
        )
        outbox = GaugeMetricFamily(
            "declinedesk_mail", "Notification e-mail by status.", labels=["status"]
        )
        for status in ("pending", "sent", "failed"):
            outbox.add_metric([status], mail.get(status, 0))
        yield outbox


_collector = QueueCollector()
prometheus_client.REGISTRY.register(_collector)


def task_finished(sender=None, task_result=None, **kwargs):
    try:
        TASKS_FINISHED.labels(task_result.task.name, str(task_result.status).lower()).inc()
    except Exception:  # noqa: BLE001 - metrics must never fail a task
        logger.debug("metrics: could not count a finished task", exc_info=True)


def connect():
    from django_tasks.signals import task_finished as finished

    finished.connect(task_finished, dispatch_uid="declinedesk-metrics-task-finished")


@never_cache
@require_GET
def metrics(request):
    if not allowed(request):
        return JsonResponse(
            {"error": {"code": "forbidden", "message": "staff or local requests only"}},
            status=403,
        )
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_collector)
    else:
        registry = prometheus_client.REGISTRY
    return HttpResponse(
        prometheus_client.generate_latest(registry),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )
