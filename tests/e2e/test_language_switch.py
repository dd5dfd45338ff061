"""Journey 6: the language switch keeps the page and changes every visible string.

How "every visible string" is checked: after switching to English, every text node of the page
(including text only screen readers get, and the <option>s of selects), the attributes people
see or hear (placeholder, aria-label, title, alt, button values) and the document title are
collected; no CJK character may be left in them. Allowed, and nothing else:
- the switch back, "中文", which is marked lang="zh-Hans" (text inside any lang="zh…" element);
- the few Chinese words English content quotes on purpose because they are printed on the slip
  or shown by the terminal (QUOTED below): the merchant needs to recognise them;
- a Chinese search query, echoed back exactly as the user typed it.
The data the test creates (merchant, terminal, ticket text, agent's reply) is in English, so
that any other Chinese character left on an English page is an untranslated string.
"""

import re

import pytest
from playwright.sync_api import expect

from diagnosis.models import TicketEvent
from diagnosis.tickets.services import ticket_reply
from knowledge.models import Article
from tests import factories
from tests.e2e.support import check_page, cjk_runs, login, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What English content quotes from slips and terminal screens (see the module docstring): the
# wizard's code question says "look for the line marked 应答码, 响应码 or RESP CODE … e.g.
# 交易拒绝（51）". Removed from the text before looking for Chinese, nothing else is.
QUOTED = ("应答码", "响应码", "交易拒绝（51）")

_STRINGS = """() => {
  const out = [document.title];
  const skip = (el) =>
    !el || el.closest('body [lang^="zh"]') || el.closest("script, style, template");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!skip(node.parentElement) && node.textContent.trim()) out.push(node.textContent.trim());
  }
  const attrs = ["placeholder", "aria-label", "title", "alt"];
  for (const el of document.body.querySelectorAll("*")) {
    if (skip(el)) continue;
    for (const name of attrs) {
      const value = el.getAttribute(name);
      if (value && value.trim()) out.push(`[${name}] ${value.trim()}`);
    }
    if (el.matches('input[type="submit"], input[type="button"]') && el.value) {
      out.push(`[value] ${el.value}`);
    }
  }
  return out;
}"""


def untranslated(page, typed=()) -> list[str]:
    """Strings on the page that still contain Chinese that is not allowed (see docstring);
    `typed` is what the user typed in Chinese themselves (a search query echoed back)."""
    left = []
    for text in page.evaluate(_STRINGS):
        rest = text
        for allowed in (*QUOTED, *typed):
            rest = rest.replace(allowed, "")
        runs = cjk_runs(rest)
        if runs:
            left.append(f"{text[:120]!r} ← {runs}")
    return left


def switch_and_check(page, base_url, path, typed=()):
    """Open `path` in Chinese, switch to English: same page, no Chinese; switch back."""
    page.goto(base_url + path)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    chinese_heading = page.get_by_role("heading", level=1).first.inner_text()
    assert untranslated(page, typed), "the check must see the Chinese before the switch"
    with page.expect_navigation():
        press(page, page.locator(".language-switch").get_by_role("button", name="English"))
    assert page.url == base_url + "/en" + path, f"{path} → {page.url}"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    leftovers = untranslated(page, typed)
    assert not leftovers, f"Chinese left on {page.url}:\n" + "\n".join(leftovers)
    check_page(page)
    with page.expect_navigation():
        press(page, page.locator(".language-switch").get_by_role("button", name="中文"))
    assert page.url == base_url + path, f"back from English: {page.url}"
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert page.get_by_role("heading", level=1).first.inner_text() == chinese_heading


def wizard_outcome_path(page, base_url) -> str:
    """A wizard outcome reached by tapping (its URL carries the recorded run)."""
    page.goto(base_url + "/diagnose/")
    press(page, page.locator("ul.options a").first)
    page.wait_for_url(re.compile(r"a=no-code"))
    press(page, page.locator("ul.options a").first)
    page.wait_for_url(re.compile(r"a=no-code\.[\w-]+$"))
    while page.locator("ul.options a").count():
        before = page.url
        press(page, page.locator("ul.options a").first)
        page.wait_for_url(lambda url, before=before: url != before)
    page.wait_for_url(re.compile(r"&r="))
    return page.url.removeprefix(base_url)


def test_public_pages_switch_language_in_place(live_server, content, phone_page):
    article = Article.objects.published().order_by("slug").first()
    paths = [
        "/",
        "/codes/51/",
        "/codes/",
        f"/articles/{article.slug}/",
        f"{article.category.get_absolute_url()}",
        "/announcements/",
        "/diagnose/",
        "/diagnose/?v=1&a=no-code",
        "/accounts/login/",
    ]
    for path in paths:
        switch_and_check(phone_page, live_server.url, path)
    # A search typed in Chinese: the query itself is echoed back as typed, nothing else.
    search = "/search/?q=%E4%BD%99%E9%A2%9D%E4%B8%8D%E8%B6%B3"  # 余额不足
    switch_and_check(phone_page, live_server.url, search, typed={"余额不足"})
    switch_and_check(phone_page, live_server.url, wizard_outcome_path(phone_page, live_server.url))


def test_merchant_and_desk_pages_switch_language_in_place(live_server, content, make_page):
    merchant = factories.merchant(name="E2E Corner Shop")
    factories.terminal(merchant=merchant, tid="E2E00002", location="Front desk")
    owner = factories.merchant_user(merchant=merchant, username="shop-owner")
    ticket = factories.ticket(
        merchant=merchant,
        user=owner,
        card_number="6228480012345678901",
        description="Card declined twice at lunch time.",
    )
    agent = factories.agent(username="agent-en")
    ticket_reply(ticket=ticket, author=agent, body="We are checking with the bank.")
    assert TicketEvent.objects.filter(ticket=ticket, kind="reply").exists()

    shop = make_page()
    login(shop, live_server.url, owner)
    for path in ["/tickets/", "/tickets/new/?code=51", f"/tickets/{ticket.number}/"]:
        switch_and_check(shop, live_server.url, path)

    desk = make_page()
    login(desk, live_server.url, agent)
    for path in ["/desk/", f"/desk/tickets/{ticket.number}/", "/desk/escalations/"]:
        switch_and_check(desk, live_server.url, path)
