import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from diagnosis.models import Bank, Merchant, Terminal, User

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "banks": list(Bank.objects.order_by("pk").values()),
        "merchants": list(Merchant.objects.order_by("pk").values()),
        "terminals": list(Terminal.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values("pk", "username", "password", "merchant")),
        "groups": list(Group.objects.order_by("pk").values("pk", "name", "permissions")),
    }


def test_seed_demo_twice_changes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, history=False)
    first = snapshot()
    assert {"admin", "agent", "editor", "merchant-a", "merchant-b"} <= {
        u["username"] for u in first["users"]
    }
    call_command("seed_demo", verbosity=0, history=False)
    assert snapshot() == first


def test_seed_demo_demo_accounts_can_log_in(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, history=False)
    assert client.login(username="merchant-a", password="demo-pass-2026")
    assert User.objects.get(username="merchant-a").merchant.mid == "898310048160001"
    assert User.objects.get(username="agent").groups.filter(name="Support agents").exists()


def test_seed_demo_refuses_known_passwords_without_debug(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo")
    assert not User.objects.exists()
    assert "NOT created" in capsys.readouterr().out


def test_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Support agents",
        "Knowledge editors",
    }
