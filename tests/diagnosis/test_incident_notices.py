"""Merchants hear of their acquirer's incident before they call (issue 17 D): one mail per
incident when it opens and one when it is resolved, in each merchant user's language, not per
ticket; opted-out users and other acquirers' merchants get nothing; linked open tickets get one
reply from DeclineDesk on resolve; the banner on the merchant's pages names the incident."""

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse

from diagnosis.insight import notices
from diagnosis.insight.detection import resolve_stale_incidents
from diagnosis.models import Incident, TicketEvent, User
from tests import factories
from tests.diagnosis.insight_support import T0, categories, merchants_of, replay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def thresholds():
    with override_settings(INCIDENT_MIN_MERCHANTS=3, INCIDENT_WINDOW_MINUTES=30):
        yield


def incident_mail(outbox, words):
    return sorted(m.to[0] for m in outbox if any(w in m.subject for w in words))


def test_open_and_resolve_each_mail_the_acquirers_merchants_once(
    mailoutbox, django_capture_on_commit_callbacks
):
    cats = categories()
    bank = factories.bank(name_zh="甲银行", name_en="Bank A")
    other_bank = factories.bank(name_zh="乙银行", name_en="Bank B")
    shops = merchants_of(bank, 3)
    english = factories.merchant_user(merchant=shops[0], language="en")
    quiet = factories.merchant_user(merchant=shops[1], incident_mail=False)
    outsider = factories.merchant_user(merchant=factories.merchant(acquirer=other_bank))
    with django_capture_on_commit_callbacks(execute=True):
        tickets = replay(
            [(shops[0], 0, "issuer_system"), (shops[1], 4, "network"),
             (shops[2], 12, "issuer_system"), (shops[0], 15, "network")],
            cats,
        )  # fmt: skip
    incident = Incident.objects.get()
    expected = sorted(
        User.objects.filter(merchant__acquirer=bank, incident_mail=True).values_list(
            "email", flat=True
        )
    )
    opened = incident_mail(mailoutbox, ["甲银行 系统故障", "Bank A is having trouble"])
    assert opened == expected  # each once, the fourth ticket added none
    assert quiet.email not in opened and outsider.email not in opened
    english_mail = next(m for m in mailoutbox if m.to == [english.email])
    assert "Bank A" in english_mail.subject and "甲" not in english_mail.subject

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resolve_stale_incidents(now=T0 + dt.timedelta(hours=3))
    assert incident_mail(mailoutbox, ["甲银行 已恢复", "Bank A has recovered"]) == expected
    replies = TicketEvent.objects.filter(kind="reply", author=None)
    assert sorted(replies.values_list("ticket_id", flat=True)) == sorted(t.pk for t in tickets)

    # the task running again (a retry) changes nothing
    assert notices.incident_notify(incident.pk, notices.RESOLVED) == {"mailed": 0, "replied": 0}
    assert notices.incident_notify(incident.pk, notices.OPENED)["replied"] == 0
    assert TicketEvent.objects.filter(kind="reply", author=None).count() == len(tickets)


def test_a_merchant_turns_incident_mail_off_and_on(client, merchant_user):
    client.force_login(merchant_user)
    url = reverse("diagnosis:ticket_incident_mail")
    assert client.post(url, {"incident_mail": "off"}).status_code == 302
    merchant_user.refresh_from_db()
    assert merchant_user.incident_mail is False
    page = client.get(reverse("diagnosis:ticket_list")).content.decode()
    assert "收单行故障通知：已关闭" in page
    client.post(url, {"incident_mail": "on"})
    merchant_user.refresh_from_db()
    assert merchant_user.incident_mail is True


def test_the_merchants_ticket_pages_show_their_acquirers_incident(client, merchant_user):
    when = T0
    Incident.objects.create(
        acquirer=merchant_user.merchant.acquirer, started_at=when, last_ticket_at=when
    )
    client.force_login(merchant_user)
    page = client.get(reverse("diagnosis:ticket_list")).content.decode()
    assert merchant_user.merchant.acquirer.name_zh in page
