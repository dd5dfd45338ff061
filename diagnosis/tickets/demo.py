"""Demo tickets for `seed_demo` (DEBUG only): a few declines of the demo merchant, through the
ticket services so they are numbered, masked and have a timeline like real ones.

Idempotent: once the merchant has the first of them, none is added (nothing is ever
overwritten). The demo history (diagnosis/demo/history.py) gives the same merchant older tickets
of its own; these three stay the ones the README and the screenshots talk about.
"""

from datetime import timedelta

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from diagnosis.models import Merchant, Ticket, User
from diagnosis.tickets.services import ticket_change_status, ticket_create, ticket_reply

DEMO_TICKETS = [
    # hours ago, TID, amount, card, code, RRN, trace, description, agent reply, status
    (
        3,
        "10060001",
        "268.00",
        "622848******1234",
        "51",
        "512345678901",
        "000231",
        "顾客刷卡两次都显示交易拒绝，应答码 51。顾客说卡里有钱。",
        "51 表示余额不足或超过限额。请让顾客联系发卡行确认单日限额，或换一张卡。",
        "waiting_merchant",
    ),
    (
        26,
        "10060002",
        "59.90",
        "4321",
        "A0",
        "530987654321",
        "000118",
        "下午开始所有卡都显示 A0，重启终端后还是一样。",
        "A0 多为终端密钥（MAC）校验失败，我们已联系收单行重新下发密钥。",
        "escalated",
    ),
    (
        70,
        "10060001",
        "1200.00",
        "",
        "05",
        "",
        "",
        "大额消费被拒，应答码 05，顾客已改用扫码支付。",
        "",
        "new",
    ),
]


def seed_tickets() -> int:
    # Demo data: no notification emails on the console while seeding, nor later from the
    # worker: the demo's tasks run here, on commit, into the dummy mail backend (so the
    # override has to outlive the transaction).
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
    ):
        return _seed_tickets()


@transaction.atomic
def _seed_tickets() -> int:
    merchant = Merchant.objects.filter(mid="898310048160001").first()
    user = User.objects.filter(username="merchant-a").first()
    agent = User.objects.filter(username="agent").first()
    if merchant is None or user is None:
        return 0
    if Ticket.objects.filter(merchant=merchant, description=DEMO_TICKETS[0][7]).exists():
        return 0
    now = timezone.now()
    created = 0
    for hours, tid, amount, card, code, rrn, trace, text, reply, status in DEMO_TICKETS:
        ticket = ticket_create(
            merchant=merchant,
            user=user,
            tid=tid,
            transaction_time=now - timedelta(hours=hours, minutes=10),
            amount=amount,
            card_number=card,
            response_code=code,
            rrn=rrn,
            trace_number=trace,
            description=text,
            now=now - timedelta(hours=hours),
        )
        created += 1
        if agent is None:
            continue
        if reply:
            ticket_change_status(ticket=ticket, actor=agent, status="in_progress")
            ticket_reply(ticket=ticket, author=agent, body=reply)
        if status not in (ticket.status, "new"):
            ticket_change_status(ticket=ticket, actor=agent, status=status)
    return created
