"""Bank turnaround (issue 17): median and p90 from sent to answered per bank, outcome shares,
and batches waiting longer than N working days, on the insight dashboard and the batch list."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from diagnosis.escalations.services import escalation_create
from diagnosis.escalations.turnaround import bank_turnaround, working_days_between
from diagnosis.models import EscalationBatch, EscalationItem
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def batch(agent, bank, *, sent_hours_ago, answered_after=None, outcomes=("refunded",)):
    shop = factories.merchant(acquirer=bank)
    found = escalation_create(actor=agent, tickets=[make_ticket(merchant=shop) for _ in outcomes])
    now = timezone.now()
    found.sent_at = now - timedelta(hours=sent_hours_ago)
    found.status = "sent"
    if answered_after is not None:
        found.status = "answered"
        found.answered_at = found.sent_at + timedelta(hours=answered_after)
        for item, outcome in zip(found.items.order_by("pk"), outcomes, strict=True):
            EscalationItem.objects.filter(pk=item.pk).update(
                outcome=outcome, answered_at=found.answered_at
            )
    found.save()
    return found


def test_working_days_skip_weekends():
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=SHANGHAI)
    assert working_days_between(friday, friday + timedelta(hours=2), SHANGHAI) == 0
    assert working_days_between(friday, friday + timedelta(days=3), SHANGHAI) == 1  # Monday
    assert working_days_between(friday, friday + timedelta(days=10), SHANGHAI) == 6


def test_public_holidays_are_no_working_days_for_banks_either(settings):
    friday = datetime(2026, 9, 25, 10, 0, tzinfo=SHANGHAI)
    settings.SLA_HOLIDAYS = ["2026-10-01", "2026-10-02"]  # Thursday and Friday
    assert working_days_between(friday, friday + timedelta(days=7), SHANGHAI) == 3  # Mon–Wed
    settings.WORKING_DAYS = [1, 2, 3, 4, 5, 6]  # a desk that works on Saturdays
    assert working_days_between(friday, friday + timedelta(days=8), SHANGHAI) == 5


def test_median_p90_shares_and_overdue_per_bank(agent):
    icbc = factories.bank(code="icbc", name_zh="工商银行", name_en="ICBC")
    boc = factories.bank(code="boc", name_zh="中国银行", name_en="BOC")
    for hours in (10, 20, 30, 40, 100):
        batch(agent, icbc, sent_hours_ago=200, answered_after=hours)
    batch(
        agent, icbc, sent_hours_ago=300, answered_after=5, outcomes=("stands", "stands", "merchant")
    )
    late = batch(agent, boc, sent_hours_ago=24 * 14)
    fresh = batch(agent, boc, sent_hours_ago=2)
    rows = {row.bank.code: row for row in bank_turnaround()}
    assert rows["icbc"].answered == 6
    assert rows["icbc"].median_hours == 20.0 and rows["icbc"].p90_hours == 100.0
    shares = {label: percent for label, _count, percent in rows["icbc"].outcomes}
    assert shares["已退款/已冲正"] == 62 and shares["交易有效（持卡人原因）"] == 25
    assert rows["boc"].waiting == 2 and rows["boc"].overdue == [late]
    assert fresh not in rows["boc"].overdue and rows["boc"].median_hours is None


def test_the_dashboard_shows_turnaround_in_fixed_queries(client, agent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    factories.sign_in(client, agent)
    icbc = factories.bank(code="icbc", name_zh="工商银行", name_en="ICBC")
    batch(agent, icbc, sent_hours_ago=100, answered_after=12)
    late = batch(agent, icbc, sent_hours_ago=24 * 14)
    url = reverse("diagnosis:insight")
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as few:
        body = client.get(url).content.decode()
    part = body[body.index('id="turnaround-icbc"') :]
    part = part[: part.index("</tr>")]
    assert "12.0" in part and late.number in part and "逾期" in part
    for n in range(4):
        bank = factories.bank()
        batch(agent, bank, sent_hours_ago=50 + n, answered_after=3)
        batch(agent, bank, sent_hours_ago=24 * 20)
    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_the_batch_list_flags_overdue_batches(client, agent):
    factories.sign_in(client, agent)
    bank = factories.bank()
    late = batch(agent, bank, sent_hours_ago=24 * 14)
    batch(agent, bank, sent_hours_ago=1)
    body = client.get(reverse("diagnosis:escalation_list")).content.decode()
    assert body.count("银行答复逾期") == 1
    row = body[body.index(late.number) :]
    assert "银行答复逾期" in row[: row.index("</tr>")]
    assert EscalationBatch.objects.filter(status="sent").count() == 2
