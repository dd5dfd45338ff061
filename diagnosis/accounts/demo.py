"""Demo merchants, terminals and accounts for `seed_demo` (known passwords: DEBUG only)."""

from django.contrib.auth.models import Group
from django.db import transaction

from diagnosis.core.roles import KNOWLEDGE_EDITORS, SUPPORT_AGENTS
from diagnosis.models import Bank, Merchant, Terminal, User

DEMO_PASSWORD = "demo-pass-2026"

BANKS = [
    # code, Chinese name, English name, acquirer?
    ("ums", "银联商务", "China UMS", True),
    ("lakala", "拉卡拉", "Lakala", True),
    ("icbc", "中国工商银行", "ICBC", True),
    ("ccb", "中国建设银行", "China Construction Bank", True),
    ("boc", "中国银行", "Bank of China", True),
    ("abc", "中国农业银行", "Agricultural Bank of China", True),
    ("cmb", "招商银行", "China Merchants Bank", True),
    ("bocom", "交通银行", "Bank of Communications", True),
]

MERCHANTS = [
    # MID, name, acquirer code, terminals (TID, model, location)
    (
        "898310048160001",
        "晨光便利店 Morning Light Mart",
        "ums",
        [("10060001", "PAX A920", "收银台 1"), ("10060002", "PAX S90", "收银台 2")],
    ),
    (
        "102290058120002",
        "老街面馆 Old Street Noodles",
        "icbc",
        [("20070001", "Newland ME31", "前台")],
    ),
    (
        "898440153990003",
        "海风服装 Sea Breeze Apparel",
        "lakala",
        [("30080001", "Centerm K9", "收银台")],
    ),
]

ACCOUNTS = [
    # username, email, merchant MID or None, group or None, is_staff, is_superuser
    ("admin", "admin@example.com", None, None, True, True),
    ("agent", "agent@example.com", None, SUPPORT_AGENTS, False, False),
    ("editor", "editor@example.com", None, KNOWLEDGE_EDITORS, True, False),
    ("merchant-a", "merchant-a@example.com", "898310048160001", None, False, False),
    ("merchant-b", "merchant-b@example.com", "102290058120002", None, False, False),
]


@transaction.atomic
def seed_banks() -> int:
    created = 0
    for code, name_zh, name_en, is_acquirer in BANKS:
        _bank, was_created = Bank.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "is_acquirer": is_acquirer}
        )
        created += was_created
    return created


@transaction.atomic
def seed_merchants() -> int:
    created = 0
    for mid, name, acquirer_code, terminals in MERCHANTS:
        merchant, was_created = Merchant.objects.get_or_create(
            mid=mid, defaults={"name": name, "acquirer": Bank.objects.get(code=acquirer_code)}
        )
        created += was_created
        for tid, model, location in terminals:
            _terminal, was_created = Terminal.objects.get_or_create(
                tid=tid, defaults={"merchant": merchant, "model": model, "location": location}
            )
            created += was_created
    return created


@transaction.atomic
def seed_accounts() -> list[tuple[str, str, bool]]:
    """Create the demo accounts that do not exist yet; existing ones are left as they are."""
    result = []
    for username, email, mid, group_name, is_staff, is_superuser in ACCOUNTS:
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            user = User(
                username=username,
                email=email,
                is_staff=is_staff,
                is_superuser=is_superuser,
                merchant=Merchant.objects.get(mid=mid) if mid else None,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
        result.append((username, DEMO_PASSWORD, created))
    return result


def seed_two_factor() -> list[tuple[str, str, str]]:
    """DEBUG only: every demo account that must use a second factor gets an authenticator (once;
    its secret is printed by seed_demo at every run) and recovery codes, topped up to ten when
    fewer than three are left. Returns (username, authenticator secret, one unused recovery
    code) per such account."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from diagnosis.accounts import two_factor

    result = []
    for username, *_rest in ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None or not two_factor.is_required(user):
            continue
        device = two_factor.confirmed_totp(user)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=two_factor.TOTP_NAME)
        recovery = StaticDevice.objects.filter(user=user, name=two_factor.RECOVERY_NAME).first()
        if recovery is None or recovery.token_set.count() < 3:
            two_factor.new_recovery_codes(user)
        code = StaticToken.objects.filter(device__user=user).order_by("pk").first()
        result.append((username, two_factor.secret_text(device), code.token))
    return result
