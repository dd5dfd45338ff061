"""`make screenshots`: PNGs of the main screens, at phone and desktop size, in docs/screenshots/.

Not part of `make test`: the file name does not start with `test_`, so pytest only collects it
when it is named on the command line (the Makefile does). It drives the same live server and
Chromium as the browser tests, with the demo data of `seed_demo` (its ninety-day history too).
Chinese needs a CJK font on the machine that renders, or every character is a box: without one
this fails and says so.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from diagnosis.accounts import demo
from diagnosis.demo import history
from diagnosis.models import EscalationBatch, Ticket, User
from diagnosis.status.demo import seed_maintenance_window, seed_networks
from diagnosis.tickets.demo import seed_tickets
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import login
from tests.e2e.test_journey_wizard_ticket import walk_wizard_by_tapping

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def cjk_fonts() -> str:
    if not shutil.which("fc-list"):
        return ""
    found = subprocess.run(  # noqa: S603 - fixed arguments
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False
    )
    return found.stdout.strip()


def shoot(page, name):
    OUT.mkdir(parents=True, exist_ok=True)
    size = "phone" if page.viewport_size == PHONE else "desktop"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}-{size}.png"), animations="disabled", caret="hide")


def test_screenshots(live_server, content, make_page):
    assert cjk_fonts(), (
        "No CJK font: Chinese would render as boxes. Install one, e.g. "
        "`apt-get install fonts-noto-cjk` (make screenshots does this where it can)."
    )
    demo.seed_banks()
    demo.seed_merchants()
    demo.seed_accounts()
    history.build()  # ninety days of activity: the desk, insight and escalations at work
    seed_tickets()
    seed_maintenance_window()
    seed_networks()
    answered = EscalationBatch.objects.filter(status="answered").order_by("-answered_at").first()
    assert answered is not None, "the demo history has answered batches"
    merchant = User.objects.get(username="merchant-a")
    agent = User.objects.get(username="agent")
    # The curated demo ticket (diagnosis/tickets/demo.py) with an agent's reply, not a random one.
    ticket = Ticket.objects.get(merchant=merchant.merchant, rrn="512345678901")
    base = live_server.url

    for viewport in (PHONE, DESKTOP):
        page = make_page(viewport=viewport)
        page.goto(base + "/")
        shoot(page, "home")
        page.goto(base + "/codes/51/")
        shoot(page, "code-51")
        page.goto(base + "/search/?q=刷卡显示余额不足")
        shoot(page, "search")
        page.goto(base + "/diagnose/?v=1&a=no-code")
        shoot(page, "wizard-question")
        walk_wizard_by_tapping(page, base)
        shoot(page, "wizard-outcome")
        page.goto(base + "/en/")
        shoot(page, "home-english")
        page.goto(base + "/status/")  # the demo's current incident, a window ahead, networks
        shoot(page, "status")

        shop = make_page(viewport=viewport)
        login(shop, base, merchant, password=demo.DEMO_PASSWORD)
        shop.goto(base + "/tickets/")
        shoot(shop, "tickets")
        shop.goto(base + "/tickets/new/?code=51&category=funds_limits")
        shoot(shop, "ticket-new")
        shop.goto(f"{base}/tickets/{ticket.number}/")
        shoot(shop, "ticket-detail")

        desk = make_page(viewport=viewport)
        login(desk, base, agent, password=demo.DEMO_PASSWORD)
        desk.goto(base + "/desk/")
        shoot(desk, "desk-queue")
        desk.goto(f"{base}/desk/tickets/{ticket.number}/")
        shoot(desk, "desk-ticket")
        desk.goto(base + "/desk/insight/")
        shoot(desk, "insight")
        desk.goto(base + "/desk/escalations/")
        shoot(desk, "escalations")
        desk.goto(f"{base}/desk/escalations/{answered.number}/")
        shoot(desk, "escalation-answered")
        desk.goto(base + "/desk/incidents/?status=all")  # past and current
        shoot(desk, "incidents")
