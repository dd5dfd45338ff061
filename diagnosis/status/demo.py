"""Demo data of the status page (seed_demo, DEBUG only): the card-network switches, an announced
maintenance window of a demo acquirer, and that bank's escalation contacts in the English
template."""

from datetime import timedelta

from django.utils import timezone

from diagnosis.models import Bank, EscalationTemplate
from knowledge.models import Announcement

DEMO_BANK = "icbc"
TITLE_ZH = "工商银行收单系统例行维护"


NETWORKS = [  # code, name_zh, name_en: the card-network switches the demo merchants' cards use
    ("cups", "银联转接网络", "UnionPay switch"),
    ("visa", "Visa 网络", "Visa network"),
]


def seed_networks() -> int:
    """The card-network switches of the status page (created once; returns how many were new)."""
    created = 0
    for code, name_zh, name_en in NETWORKS:
        _bank, new = Bank.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "is_acquirer": False,
                "is_network": True,
            },
        )
        created += new
    return created


def seed_maintenance_window(now=None) -> int:
    """An announced window tomorrow 01:00–03:00 (1), unless one is still ahead or running (0)."""
    bank = Bank.objects.filter(code=DEMO_BANK).first()
    if bank is None:
        return 0
    now = now or timezone.now()
    if Announcement.objects.filter(bank=bank, title_zh=TITLE_ZH, ends_at__gt=now).exists():
        return 0
    start = timezone.localtime(now).replace(hour=1, minute=0, second=0, microsecond=0)
    start += timedelta(days=1)
    Announcement.objects.create(
        bank=bank,
        bank_role=Announcement.BankRole.ACQUIRER,
        title_zh=TITLE_ZH,
        title_en="ICBC acquiring: scheduled maintenance",
        body_zh="维护期间刷卡交易可能失败或超时（应答码 91、96），维护结束后自动恢复。",
        body_en=(
            "Card payments may fail or time out during the window (response codes 91, 96); "
            "they work again once it ends."
        ),
        severity=Announcement.Severity.WARNING,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    if not bank.escalation_email:
        bank.escalation_email = "disputes@icbc.example"
        bank.escalation_cc = "pos-ops@icbc.example"
        bank.escalation_template = EscalationTemplate.objects.filter(code="english-xlsx").first()
        bank.agent_notes = "Replies within 3 working days; send batches before 15:00."
        bank.save()
    return 1
