"""Journey 1 (and 5): a logged-out merchant looks a response code up, votes, searches, reads.

Run on a phone and a desktop with JavaScript, and on a phone with JavaScript off (journey 5):
htmx only enhances, every step is a plain link or form underneath.
"""

import re

import pytest

from knowledge.models import Article, ArticleVote, ResponseCode
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import check_page, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VARIANTS = [
    pytest.param(PHONE, True, id="phone"),
    pytest.param(DESKTOP, True, id="desktop"),
    pytest.param(PHONE, False, id="phone-no-js"),
]


def search_for(page, text):
    box = page.get_by_role("searchbox", name="搜索应答码或问题")
    box.click()
    box.fill("")
    box.type(text)  # key by key, as a cashier types it
    with page.expect_navigation():
        press(page, page.get_by_role("search").get_by_role("button", name="搜索"))


def assert_top_result_is_about_51(results):
    """Balance too low is code 51: the best result is that code or an article about it."""
    top = results.first
    codes = top.locator(".tag-code, .code-chip").all_inner_texts()
    assert "51" in [code.strip() for code in codes], top.inner_text()


@pytest.mark.parametrize(("viewport", "javascript"), VARIANTS)
def test_merchant_looks_up_code_votes_and_searches(
    live_server, content, make_page, viewport, javascript
):
    page = make_page(viewport=viewport, javascript=javascript)
    page.goto(live_server.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "POS 显示“交易拒绝”？"
    check_page(page)

    # Types 51 on the home page → the code page.
    search_for(page, "51")
    assert page.url == live_server.url + "/codes/51/"
    assert page.get_by_text("应答码 51", exact=True).is_visible()
    meaning = ResponseCode.objects.get(code="51").meaning_zh
    assert page.get_by_role("heading", level=1).inner_text() == meaning
    check_page(page)

    # The code page itself has no vote form (votes are per article): vote on its first article.
    articles = page.locator("section[aria-labelledby=articles-title] a")
    assert articles.count() >= 1
    article_title = articles.first.inner_text()
    press(page, articles.first)
    page.wait_for_url(re.compile(r"/articles/[\w-]+/$"))
    slug = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert page.get_by_role("heading", level=1).inner_text() == article_title
    check_page(page)

    feedback = page.locator("#feedback")
    press(page, feedback.get_by_role("button", name="有帮助"))
    if javascript:  # htmx swaps the thank-you into place, the page stays
        assert feedback.get_by_role("status").inner_text().startswith("谢谢你的反馈")
    else:  # a plain POST, then redirect back with a message
        page.wait_for_url(re.compile(rf"/articles/{slug}/#feedback$"))
        assert page.locator(".messages").inner_text() == "谢谢你的反馈！"
        assert feedback.get_by_role("status").inner_text() == "你已经评价过这篇文章了，谢谢！"
    article = Article.objects.get(slug=slug)
    assert ArticleVote.objects.filter(article=article, helpful=True).count() == 1
    check_page(page)

    # Searches in Chinese, as the merchant would say it.
    press(page, page.get_by_role("link", name="DeclineDesk"))
    page.wait_for_url(live_server.url + "/")
    search_for(page, "刷卡显示余额不足")
    assert "/search/?q=" in page.url
    results = page.locator("ol.results > li")
    assert results.count() >= 1
    assert_top_result_is_about_51(results)
    check_page(page)

    # … and with an English phrase: the same knowledge base answers.
    search_for(page, "insufficient funds")
    results = page.locator("ol.results > li")
    assert results.count() >= 1
    assert_top_result_is_about_51(results)
    check_page(page)

    # Opens an article from the results (through /search/open/, which counts the opening).
    result_link = page.locator("ol.results a.result-title[href*='to=a%3A']").first
    title = result_link.inner_text()
    press(page, result_link)
    page.wait_for_url(re.compile(r"/articles/[\w-]+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.get_by_role("heading", name="商户现在怎么做").is_visible()
    check_page(page)
