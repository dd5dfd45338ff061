"""Journey: the desk tools. An agent opens a code-51 ticket of an English-speaking merchant,
inserts the knowledge-base answer (it arrives in English while the desk reads Chinese), merges
the merchant's duplicate into it, applies a macro that also resolves the ticket, and the
merchant rates the resolution from the ticket page.
"""

import re

import pytest
from playwright.sync_api import expect

from diagnosis.models import Macro, SatisfactionRating, Ticket, TicketLink
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import check_page, login, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_agent_answers_from_the_knowledge_base_merges_and_the_merchant_rates(
    live_server, content, make_page, viewport
):
    merchant = factories.merchant(name="Harbour Noodles")
    owner = factories.merchant_user(merchant=merchant, language="en")
    ticket = factories.ticket(merchant=merchant, user=owner, response_code="51")
    duplicate = factories.ticket(
        merchant=merchant, user=owner, response_code="51", description="Same payment again"
    )
    Macro.objects.create(
        name_zh="已解决（余额不足）",
        name_en="Resolved (insufficient funds)",
        body_zh="{merchant} 您好，工单 {ticket} 已处理完毕。",
        body_en="Hello {merchant}, ticket {ticket} is resolved.",
        set_status=Ticket.Status.RESOLVED,
    )
    agent = factories.agent(username="agent-wang")
    desk = make_page(viewport=viewport)

    # The agent opens the code-51 ticket (the desk reads Chinese).
    login(desk, live_server.url, agent, next_path=f"/desk/tickets/{ticket.number}/")
    expect(desk.get_by_role("heading", level=1)).to_have_text(ticket.number)
    check_page(desk)

    # Inserts the related article's answer: it arrives in the merchant's language (htmx).
    insert = desk.get_by_role("link", name=re.compile(r"^插入回复：.+")).first
    press(desk, insert)
    reply_box = desk.get_by_label("回复商户")
    expect(reply_box).to_have_value(re.compile(r"Response code 51 means"))
    draft = reply_box.input_value()
    assert draft.startswith(f"Hello, about ticket {ticket.number}")
    assert live_server.url in draft  # the link to the public article
    assert not re.search(r"[\u4e00-\u9fff]", draft)  # not a word of Chinese
    assert "**" not in draft and "](/" not in draft  # the article's Markdown as plain text
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="发送回复"))
    expect(desk.locator(".desk-message-public")).to_contain_text("Response code 51 means")
    check_page(desk)

    # Merges the merchant's duplicate into this ticket.
    desk.get_by_label("合并重复工单（工单号）").fill(duplicate.number)
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="合并到本工单"))
    expect(desk.locator("#links")).to_contain_text(duplicate.number)
    expect(desk.locator("ol.desk-conversation")).to_contain_text(duplicate.number)
    duplicate.refresh_from_db()
    assert duplicate.status == Ticket.Status.CLOSED
    assert TicketLink.objects.filter(source=duplicate, target=ticket, kind="merged").exists()
    check_page(desk)

    # Applies the macro: the English reply is sent and the ticket resolved in one go.
    press(desk, desk.locator("#macros summary"))
    with desk.expect_navigation():
        press(
            desk,
            desk.get_by_role("button", name="发送并执行：模板“已解决（余额不足）”"),
        )
    expect(desk.locator(".desk-badges")).to_contain_text("已解决")
    expect(desk.locator(".desk-message-public").last).to_contain_text(
        f"Hello Harbour Noodles, ticket {ticket.number} is resolved."
    )
    assert Macro.objects.get().usage_count == 1
    check_page(desk)

    # The merchant sees the English answer, the duplicate's pointer, and rates the resolution.
    shop = make_page(viewport=viewport)
    login(shop, live_server.url, owner, next_path=f"/tickets/{duplicate.number}/")
    expect(shop.locator("main")).to_contain_text(ticket.number)
    shop.goto(f"{live_server.url}/tickets/{ticket.number}/")
    expect(shop.locator("main")).to_contain_text("Response code 51 means")
    rating = shop.locator("#rating")
    press(shop, rating.locator("input[name=score][value='4']"))
    rating.get_by_label("意见（可选）").fill("Quick and clear, thanks")
    check_page(shop)
    with shop.expect_navigation():
        press(shop, rating.get_by_role("button", name="提交评价"))
    expect(shop.locator("#rating")).to_contain_text("4 / 5")
    saved = SatisfactionRating.objects.get(ticket=ticket)
    assert saved.score == 4 and saved.comment == "Quick and clear, thanks"
    check_page(shop)
