"""Issue #18 in the browser: keyboard in the queue (j/k/o, ?), the SLA panel, and a second agent's
open ticket page showing the first agent replying (presence heartbeat over htmx)."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import DESKTOP
from tests.e2e.support import check_page, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_keyboard_queue_and_presence(live_server, make_page):
    owner = factories.merchant_user()
    tickets = [factories.ticket(user=owner) for _ in range(3)]
    li = factories.agent(username="li", first_name="Li")
    wang = factories.agent(username="wang")

    desk = make_page(viewport=DESKTOP)
    login(desk, live_server.url, li, next_path="/desk/")
    expect(desk.locator("[data-queue-rows] tr")).to_have_count(3)
    check_page(desk)
    desk.keyboard.press("?")
    expect(desk.locator("#keyboard-help")).to_be_visible()
    desk.keyboard.press("Escape")
    expect(desk.locator("#keyboard-help")).to_be_hidden()
    desk.keyboard.press("j")
    desk.keyboard.press("j")
    expect(desk.locator("tr.row-cursor")).to_have_count(1)
    second = tickets[-2].number  # newest first: the second row
    expect(desk.locator("tr.row-cursor")).to_contain_text(second)
    with desk.expect_navigation():
        desk.keyboard.press("o")
    assert desk.url.endswith(f"/desk/tickets/{second}/")
    expect(desk.locator(".desk-sla")).to_contain_text("首次回复")
    check_page(desk)

    other = make_page(viewport=DESKTOP)
    login(other, live_server.url, wang, next_path=f"/desk/tickets/{second}/")
    expect(other.locator("#desk-presence")).to_contain_text("Li 正在查看", timeout=15_000)

    desk.keyboard.press("r")
    expect(desk.locator("#reply textarea")).to_be_focused()
    desk.keyboard.type("您好，")
    expect(other.locator("#desk-presence")).to_contain_text("Li 正在回复…", timeout=15_000)
