"""Terminal health: many distinct cards declined on one terminal in a short window."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from diagnosis.desk import live
from diagnosis.insight import terminal_health
from tests import factories
from tests.diagnosis.insight_support import ticket_at
from tests.diagnosis.wizard_support import seed_small

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("thresholds")]


@pytest.fixture
def thresholds():
    with override_settings(TERMINAL_HEALTH_MIN_CARDS=3, TERMINAL_HEALTH_WINDOW_MINUTES=60):
        yield


def declines(merchant, tid, cards, *, minutes_ago=5, user=None):
    now = timezone.now()
    return [
        ticket_at(
            merchant,
            now,
            tid=tid,
            card=card,
            user=user,
            transaction_time=now - dt.timedelta(minutes=minutes_ago + i),
        )
        for i, card in enumerate(cards)
    ]


def test_flags_only_many_distinct_cards_within_the_window(merchant):
    declines(merchant, "T0000001", ["1111", "2222", "3333"])  # three cards: flagged
    declines(merchant, "T0000002", ["1111", "1111", "1111", "2222"])  # one card again and again
    declines(merchant, "T0000003", ["1111", "2222", "3333"], minutes_ago=90)  # too long ago
    flagged = terminal_health.flagged_terminals(
        [(merchant.pk, tid) for tid in ("T0000001", "T0000002", "T0000003", "T0000404")]
    )
    assert flagged == {(merchant.pk, "T0000001"): 3}
    assert terminal_health.flagged_for_merchant(merchant.pk) == {"T0000001": 3}
    assert terminal_health.flagged_for_merchant(factories.merchant().pk) == {}


def test_thresholds_are_configurable(merchant):
    declines(merchant, "T0000001", ["1111", "2222", "3333"])
    with override_settings(TERMINAL_HEALTH_MIN_CARDS=4):
        assert terminal_health.flagged_terminals([(merchant.pk, "T0000001")]) == {}
    with override_settings(TERMINAL_HEALTH_WINDOW_MINUTES=6):
        assert terminal_health.flagged_terminals([(merchant.pk, "T0000001")]) == {}


def test_merchant_sees_the_notice_on_the_ticket_page_and_in_the_wizard(
    client, merchant_user, tmp_path
):
    seed_small(tmp_path)
    tickets = declines(
        merchant_user.merchant, "T0000001", ["1111", "2222", "3333"], user=merchant_user
    )
    factories.sign_in(client, merchant_user)
    html = client.get(f"/tickets/{tickets[0].number}/").content.decode()
    assert "你的终端 T0000001 可能需要维护" in html
    html = client.get("/diagnose/").content.decode()
    assert "你的终端 T0000001 可能需要维护" in html
    html = client.get("/en/diagnose/").content.decode()
    assert "Your terminal T0000001 may need maintenance" in html
    # not on unrelated pages, and not for another merchant
    assert "可能需要维护" not in client.get("/").content.decode()
    factories.sign_in(client, factories.merchant_user())
    assert "可能需要维护" not in client.get("/diagnose/").content.decode()


def test_no_notice_for_a_healthy_terminal(client, merchant_user):
    tickets = declines(merchant_user.merchant, "T0000001", ["1111", "2222"], user=merchant_user)
    factories.sign_in(client, merchant_user)
    assert "可能需要维护" not in client.get(f"/tickets/{tickets[0].number}/").content.decode()


def test_agent_sees_the_flag_in_the_queue(client, agent, merchant):
    declines(merchant, "T0000001", ["1111", "2222", "3333"])
    declines(merchant, "T0000002", ["1111"])
    factories.sign_in(client, agent)
    html = client.get("/desk/").content.decode()
    row_1 = html.split("T0000001")[1].split("</td>")[0]
    row_2 = html.split("T0000002")[1].split("</td>")[0]
    assert "疑似终端故障" in row_1 and "疑似终端故障" not in row_2


def test_queue_pays_one_query_for_the_flags_whatever_the_rows(
    client, agent, merchant, django_assert_max_num_queries
):
    declines(merchant, "T0000001", ["1111", "2222", "3333"])
    factories.sign_in(client, agent)
    client.get("/desk/")
    live.tickets_changed()  # the queue's table is rendered, not read from its cache
    with django_assert_max_num_queries(30) as small:
        client.get("/desk/")
    for i in range(10):
        declines(merchant, f"T00001{i:02d}", ["1111", "2222", "3333"])
    # The new rows are not in the row cache yet: one query loads them all (config/fragments.py).
    with django_assert_max_num_queries(len(small.captured_queries) + 1):
        client.get("/desk/")
