"""Incident detection replays synthetic ticket streams: each known incident is found once,
nothing is found in quiet streams, and a dismissed burst is not found twice."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings

from diagnosis.insight.detection import detect_incidents
from diagnosis.models import Incident
from diagnosis.tickets.services import ticket_create
from tests import factories
from tests.diagnosis.insight_support import T0, categories, merchants_of, replay, ticket_at

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("thresholds"),
]


@pytest.fixture
def thresholds():
    with override_settings(INCIDENT_MIN_MERCHANTS=3, INCIDENT_WINDOW_MINUTES=30):
        yield


@pytest.fixture
def cats():
    return categories()


@pytest.fixture
def bank_a():
    return factories.bank(name_zh="甲银行", name_en="Bank A")


@pytest.fixture
def bank_b():
    return factories.bank(name_zh="乙银行", name_en="Bank B")


def test_burst_of_three_merchants_opens_one_incident(cats, bank_a):
    m1, m2, m3, m4 = merchants_of(bank_a, 4)
    stream = [
        (m1, 0, "issuer_system"),
        (m2, 4, "network"),
        (m1, 6, "issuer_system"),  # same merchant again: still two distinct
        (m3, 12, "issuer_system"),  # third merchant within 30 min → incident
        (m4, 15, "issuer_system"),  # joins the open incident
        (m2, 20, "network"),
    ]
    tickets = replay(stream, cats)
    incident = Incident.objects.get()
    assert incident.acquirer == bank_a
    assert incident.status == Incident.Status.OPEN
    assert incident.started_at == T0  # the first ticket of the burst
    assert incident.last_ticket_at == T0 + dt.timedelta(minutes=20)
    assert incident.merchant_count == 4
    assert set(incident.tickets.all()) == set(tickets)


def test_quiet_streams_find_nothing(cats, bank_a, bank_b):
    a1, a2, a3 = merchants_of(bank_a, 3)
    b1, b2 = merchants_of(bank_b, 2)
    stream = [
        # many tickets, but from two merchants only
        *[(a1, m, "issuer_system") for m in range(0, 20, 2)],
        *[(a2, m, "network") for m in range(1, 20, 2)],
        # three merchants, but spread over more than 30 minutes
        (a3, 60, "issuer_system"),
        (a1, 95, "issuer_system"),
        (a2, 130, "issuer_system"),
        # three merchants within minutes, but not a bank-side category
        (a1, 200, "funds_limits"),
        (a2, 201, "terminal"),
        (a3, 202, "card_status"),
        # three merchants of two different acquirers
        (b1, 300, "issuer_system"),
        (b2, 301, "issuer_system"),
        (a1, 302, "issuer_system"),
    ]
    replay(stream, cats)
    assert Incident.objects.count() == 0
    # and a full rescan of the period agrees
    assert detect_incidents(since=T0, until=T0 + dt.timedelta(hours=6)) == []


def test_window_edge_is_inclusive_and_one_minute_more_is_not(cats, bank_a):
    m1, m2, m3 = merchants_of(bank_a, 3)
    replay([(m1, 0, "issuer_system"), (m2, 10, "issuer_system"), (m3, 31, "network")], cats)
    assert Incident.objects.count() == 0  # 31 minutes apart: m1 fell out of the window
    m4 = factories.merchant(acquirer=bank_a)
    replay([(m4, 40, "issuer_system")], cats)  # m2 (10), m3 (31), m4 (40): within 30
    incident = Incident.objects.get()
    assert incident.started_at == T0 + dt.timedelta(minutes=10)
    assert incident.merchant_count == 3


def test_two_acquirers_two_incidents_each_found_once(cats, bank_a, bank_b):
    a = merchants_of(bank_a, 3)
    b = merchants_of(bank_b, 3)
    stream = [(m, i, "issuer_system") for i, m in enumerate([a[0], b[0], a[1], b[1], a[2], b[2]])]
    stream += [(m, 10 + i, "network") for i, m in enumerate(a + b)]  # more of the same
    replay(stream, cats)
    assert sorted(Incident.objects.values_list("acquirer__name_en", flat=True)) == [
        "Bank A",
        "Bank B",
    ]
    # rescanning the same period (cron, or a second process) finds nothing new
    assert detect_incidents(since=T0, until=T0 + dt.timedelta(hours=1)) == []
    assert Incident.objects.count() == 2


def test_dismissed_burst_is_not_found_twice_but_a_new_burst_is(cats, bank_a):
    m = merchants_of(bank_a, 3)
    replay([(x, i, "issuer_system") for i, x in enumerate(m)], cats)
    incident = Incident.objects.get()
    incident.status = Incident.Status.DISMISSED
    incident.save()
    # the same tickets are rescanned: nothing new
    assert detect_incidents(since=T0, until=T0 + dt.timedelta(minutes=30)) == []
    # one more ticket soon after: with the dismissed tickets no longer counting, no incident
    replay([(m[0], 5, "issuer_system")], cats)
    assert Incident.objects.count() == 1
    # a fresh burst later opens a new incident
    replay([(x, 120 + i, "network") for i, x in enumerate(m)], cats)
    assert Incident.objects.count() == 2
    assert Incident.objects.active().get().started_at == T0 + dt.timedelta(minutes=120)


def test_batch_scan_of_a_replayed_history_finds_each_incident_once(cats, bank_a, bank_b):
    """The management command's path: tickets recorded without inline detection, then scanned."""
    a = merchants_of(bank_a, 4)
    b = merchants_of(bank_b, 3)
    history = [
        # bank A: incident 1 at 0–8 min
        (a[0], 0), (a[1], 3), (a[2], 8),
        # quiet for two hours (two merchants only)
        (a[0], 60), (a[1], 90),
        # bank B: incident at 100–110
        (b[0], 100), (b[1], 105), (b[2], 110),
    ]  # fmt: skip
    for merchant, minutes in history:
        ticket_at(merchant, T0 + dt.timedelta(minutes=minutes), category=cats["issuer_system"])
    opened = detect_incidents(since=T0, until=T0 + dt.timedelta(hours=3))
    assert [(i.acquirer_id, i.started_at) for i in opened] == [
        (bank_a.pk, T0),
        (bank_b.pk, T0 + dt.timedelta(minutes=100)),
    ]
    # bank A's incident is still open: its later tickets joined it instead of a second one
    assert Incident.objects.get(acquirer=bank_a).tickets.count() == 5
    assert detect_incidents(since=T0, until=T0 + dt.timedelta(hours=3)) == []


def test_management_command_scans_the_requested_hours(cats, bank_a):
    from django.utils import timezone

    now = timezone.now()
    for i, merchant in enumerate(merchants_of(bank_a, 3)):
        ticket_at(merchant, now - dt.timedelta(hours=2, minutes=i), category=cats["network"])
    call_command("detect_incidents", verbosity=0)  # last 30 minutes only: nothing
    assert Incident.objects.count() == 0
    call_command("detect_incidents", "--hours", "3", verbosity=0)
    assert Incident.objects.count() == 1
    call_command("detect_incidents", "--hours", "3", verbosity=0)
    assert Incident.objects.count() == 1


def test_ticket_create_runs_detection_after_commit(
    cats, bank_a, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    merchants = merchants_of(bank_a, 3)
    for merchant in merchants:
        user = factories.merchant_user(merchant=merchant)
        with django_capture_on_commit_callbacks(execute=True):
            ticket_create(
                merchant=merchant,
                user=user,
                tid="12345678",
                transaction_time=timezone.now(),
                amount="10.00",
                response_code="91",
                category=cats["issuer_system"],
            )
    incident = Incident.objects.get()
    assert incident.merchant_count == 3 and incident.tickets.count() == 3


def test_inline_detection_is_cheap(cats, bank_a, django_assert_max_num_queries):
    merchants = merchants_of(bank_a, 3)
    tickets = [ticket_at(m, T0, category=cats["issuer_system"]) for m in merchants[:2]]
    from diagnosis.insight.detection import detect_after_ticket

    with django_assert_max_num_queries(3):  # the ticket, the window's candidates, active ones
        assert detect_after_ticket(tickets[-1].pk) == []
    other = ticket_at(merchants[2], T0, category=cats["funds_limits"])
    with django_assert_max_num_queries(1):  # not a bank-side category: stop at once
        assert detect_after_ticket(other.pk) == []


def test_only_one_active_incident_per_acquirer_even_when_forced(bank_a):
    from django.db import IntegrityError, transaction

    Incident.objects.create(acquirer=bank_a, started_at=T0, last_ticket_at=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(acquirer=bank_a, started_at=T0, last_ticket_at=T0)
    Incident.objects.create(
        acquirer=bank_a, started_at=T0, last_ticket_at=T0, status=Incident.Status.RESOLVED
    )
    assert Incident.objects.count() == 2
