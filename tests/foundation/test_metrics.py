"""/metrics (Prometheus) and /healthz?deep=1: for staff and this machine only."""

import pytest
from django.core.cache import cache

from tests import factories

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.9"}


@pytest.mark.django_db
def test_metrics_are_refused_to_visitors_from_elsewhere_and_served_to_staff(client, agent):
    assert client.get("/metrics", **ELSEWHERE).status_code == 403
    factories.sign_in(client, agent)  # an agent is not staff
    assert client.get("/metrics", **ELSEWHERE).status_code == 403
    factories.sign_in(client, factories.user(is_staff=True))
    response = client.get("/metrics", **ELSEWHERE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_metrics_show_request_latency_by_view_and_the_task_queue(
    client, database_tasks, django_assert_max_num_queries
):
    from diagnosis.tickets.tasks import deliver_due_mail

    client.get("/healthz")
    deliver_due_mail.enqueue()
    deliver_due_mail.enqueue()
    with django_assert_max_num_queries(3):  # tasks by state, the oldest ready one, mail
        body = client.get("/metrics").content.decode()  # from this machine: allowed
    assert (
        'django_http_requests_latency_seconds_by_view_method_count{method="GET",view="healthz"}'
        in body
    )
    assert 'declinedesk_task_queue{state="ready"} 2.0' in body
    assert 'declinedesk_task_queue{state="failed"} 0.0' in body
    assert "declinedesk_task_queue_oldest_wait_seconds" in body
    assert 'declinedesk_mail{status="pending"} 0.0' in body


@pytest.mark.django_db
def test_deep_health_checks_cache_and_queue_for_local_or_staff_only(
    client, database_tasks, settings, django_assert_max_num_queries
):
    with django_assert_max_num_queries(1):  # the plain check stays one query, no session
        assert client.get("/healthz", **ELSEWHERE).json() == {
            "status": "ok",
            "database": "up",
            "cache": "local",  # the tests' cache is in-process: nothing to be down
        }
    assert client.get("/healthz?deep=1", **ELSEWHERE).status_code == 403
    response = client.get("/healthz?deep=1")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["database"], body["cache"]) == ("ok", "up", "up")
    assert body["queue"]["backend"] == "database" and body["queue"]["draining"] is True


@pytest.mark.django_db
def test_deep_health_is_503_when_the_queue_stops_draining(client, database_tasks, settings):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from diagnosis.tickets.tasks import deliver_due_mail

    result = deliver_due_mail.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.TASK_QUEUE_MAX_WAIT + 60)
    )
    response = client.get("/healthz?deep=1")
    assert response.status_code == 503
    assert response.json()["queue"]["draining"] is False
    assert response.json()["queue"]["ready"] == 1


@pytest.mark.django_db
def test_deep_health_is_503_when_the_cache_is_down(client, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("redis is gone")

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/healthz?deep=1")
    assert response.status_code == 503
    assert response.json()["cache"] == "down"
