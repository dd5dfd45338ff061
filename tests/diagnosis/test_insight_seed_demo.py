"""seed_demo adds one open demo incident (DEBUG only, once) so that `make run` shows the incident
banner to the demo merchant and the alert on the agents' desk."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from diagnosis.insight import alerts
from diagnosis.models import Incident, Ticket
from tests import factories

pytestmark = pytest.mark.django_db


def incidents():
    return list(Incident.objects.order_by("pk").values())


def test_demo_incident_seeded_once_and_shown(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, history=False)
    first = incidents()
    assert len(first) == 1
    incident = Incident.objects.select_related("acquirer").get()
    assert incident.acquirer.code == "ums" and incident.status == Incident.Status.OPEN
    assert incident.merchant_count >= settings.INCIDENT_MIN_MERCHANTS
    call_command("seed_demo", verbosity=0, history=False)
    assert incidents() == first
    assert Ticket.objects.count() == 3  # the demo tickets only

    since = timezone.localtime(incident.started_at).strftime("%H:%M")
    assert client.login(username="merchant-a", password="demo-pass-2026")
    home = client.get("/").content.decode()
    assert f"银联商务的很多商户自 {since} 起报告交易失败" in home
    client.logout()
    from diagnosis.models import User

    factories.sign_in(client, User.objects.get(username="agent"))  # with the second factor
    desk = client.get("/desk/").content.decode()
    assert f"故障事件：银联商务 自 {since} 起有 {incident.merchant_count} 家商户报告失败" in desk
    assert f'href="/desk/incidents/{incident.pk}/"' in desk


def test_a_handled_demo_incident_is_not_reopened(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, history=False)
    Incident.objects.update(status=Incident.Status.RESOLVED, ended_at=timezone.now())
    alerts.forget()
    call_command("seed_demo", verbosity=0, history=False)
    assert list(Incident.objects.values_list("status", flat=True)) == ["resolved"]


def test_no_demo_incident_without_debug(settings):
    settings.DEBUG = False
    call_command("seed_demo", verbosity=0, history=False)
    assert not Incident.objects.exists()


def test_a_stale_demo_incident_is_over_like_a_real_one(settings, client):
    """Recent, then resolved: an unhandled demo incident older than two hours is closed by the
    next seed_demo instead of showing "since 05:39" for days (issue 15)."""
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, history=False)
    incident = Incident.objects.get()
    Incident.objects.update(started_at=incident.started_at - timezone.timedelta(hours=3))
    alerts.forget()
    call_command("seed_demo", verbosity=0, history=False)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED and incident.ended_at is not None
    assert incident.ended_at - incident.started_at == timezone.timedelta(minutes=40)
    assert Incident.objects.count() == 1  # not reopened
    alerts.forget()
    assert client.login(username="merchant-a", password="demo-pass-2026")
    assert "的很多商户自" not in client.get("/").content.decode()
