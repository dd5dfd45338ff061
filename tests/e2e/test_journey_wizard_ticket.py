"""Journey 2 (and 5): the wizard by tapping only, then recording the decline as a ticket.

No code → answers → outcome → "did not solve it" → record this decline → log in → the ticket
form is pre-filled → a full card number typed into the card field and the description → only
the masked card is ever shown again, and the ticket is in the merchant's list.
Run on a phone and a desktop with JavaScript, and on a phone with JavaScript off (journey 5).
"""

import json
import re

import pytest
from playwright.sync_api import expect

from diagnosis.models import Ticket
from diagnosis.wizard.loader import CONTENT_FILE
from knowledge.models import Category
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import (
    FULL_CARD,
    MASKED_CARD,
    check_page,
    fill_login_form,
    press,
    transaction_time_value,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VARIANTS = [
    pytest.param(PHONE, True, id="phone"),
    pytest.param(DESKTOP, True, id="desktop"),
    pytest.param(PHONE, False, id="phone-no-js"),
]
WIZARD_FILE = CONTENT_FILE
# No code → only this card fails → it failed after the PIN → wrong three times: PIN locked.
ROUTE = [("q-code", "no-code"), ("q-scope", "only-this-card"), ("q-failed-step", "pin")]
LAST = ("q-pin-tries", "many-wrong")


def wizard_text():
    """Questions, option labels and outcomes in Chinese, from the tree the test loads."""
    tree = json.loads(WIZARD_FILE.read_text(encoding="utf-8"))
    questions = {q["id"]: q for q in tree["questions"]}
    outcomes = {o["id"]: o for o in tree["outcomes"]}
    return questions, outcomes


def label_of(questions, question_id, option_id):
    option = next(o for o in questions[question_id]["options"] if o["id"] == option_id)
    return option["label"]["zh-hans"], option


def walk_wizard_by_tapping(page, base_url):
    """Tap through ROUTE + LAST; returns the outcome reached (its JSON entry)."""
    questions, outcomes = wizard_text()
    heading = page.get_by_role("heading", level=1)
    page.goto(base_url + "/diagnose/")
    expect(heading).to_have_text(questions["q-code"]["text"]["zh-hans"])
    check_page(page)
    for question_id, option_id in [*ROUTE, LAST]:
        expect(heading).to_have_text(questions[question_id]["text"]["zh-hans"])
        label, option = label_of(questions, question_id, option_id)
        press(page, page.locator("ul.options").get_by_role("link", name=label, exact=True))
        if option.get("next"):
            expect(heading).to_have_text(questions[option["next"]]["text"]["zh-hans"])
            check_page(page)
    outcome = outcomes[option["outcome"]]
    expect(heading).to_have_text(outcome["title"]["zh-hans"])
    return outcome


@pytest.mark.parametrize(("viewport", "javascript"), VARIANTS)
def test_wizard_by_tapping_then_record_the_decline(
    live_server, content, make_page, viewport, javascript
):
    merchant = factories.merchant(name="E2E 便利店")
    terminal = factories.terminal(merchant=merchant, tid="E2E00001", location="收银台")
    user = factories.merchant_user(merchant=merchant)
    page = make_page(viewport=viewport, javascript=javascript)

    outcome = walk_wizard_by_tapping(page, live_server.url)
    assert re.search(r"/diagnose/\?.*r=", page.url), "the outcome is recorded as a run"
    check_page(page)

    feedback = page.locator("#wizard-feedback")
    press(page, feedback.get_by_role("button", name="没解决", exact=True))
    expect(feedback.get_by_role("heading", level=2)).to_have_text("没解决？交给银行跟进")
    check_page(page)

    with page.expect_navigation():
        press(page, feedback.get_by_role("link", name="记录这笔拒绝交易，提交给银行"))
    assert "/accounts/login/" in page.url  # not logged in yet: the form comes after the login
    check_page(page)
    fill_login_form(page, user)

    # The ticket form, pre-filled from the wizard.
    assert re.search(r"/tickets/new/\?", page.url), page.url
    category = Category.objects.get(key=outcome["category"])
    summary = page.locator("section.tk-summary")
    expect(summary).to_contain_text(f"问题类型：{category.name_zh}")
    expect(summary).to_contain_text(outcome["title"]["zh-hans"])
    assert page.locator("input[name=category]").input_value() == category.key
    check_page(page)

    page.get_by_label("终端", exact=True).select_option(label="E2E00001 · 收银台")
    page.get_by_label("交易时间").fill(transaction_time_value())
    page.get_by_label("金额").fill("88.00")
    card = page.get_by_label("卡号")
    card.click()
    card.type(FULL_CARD)
    description = page.get_by_label("情况说明")
    description.click()
    description.type(f"顾客输错三次密码，卡号 {FULL_CARD}，请帮忙查一下。")
    with page.expect_navigation():
        press(page, page.get_by_role("button", name="保存工单"))

    ticket = Ticket.objects.get(merchant=merchant)
    assert page.url.endswith(f"/tickets/{ticket.number}/"), page.url
    expect(page.locator(".messages")).to_contain_text(f"已记录工单 {ticket.number}")
    facts = page.locator("dl.tk-facts")
    expect(facts).to_contain_text(MASKED_CARD)
    expect(page.locator(".tk-pre").first).to_contain_text(f"卡号 {MASKED_CARD}")
    assert FULL_CARD not in page.content()
    check_page(page)

    # Stored masked too (the page could only show what was stored).
    assert ticket.card_masked == MASKED_CARD
    assert ticket.terminal == terminal
    assert ticket.category == category
    assert FULL_CARD not in ticket.description and MASKED_CARD in ticket.description
    assert outcome["title"]["zh-hans"] in ticket.wizard_summary

    # … and in the merchant's list.
    with page.expect_navigation():
        press(page, page.get_by_role("link", name="← 我的工单"))
    rows = page.locator("li.tk-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ticket.number)
    expect(rows.first).to_contain_text(MASKED_CARD)
    assert FULL_CARD not in page.content()
    check_page(page)
