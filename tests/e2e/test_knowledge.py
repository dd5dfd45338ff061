"""Knowledge base in a real browser: live search (htmx), code redirect, votes, JS off, phone."""

import pytest
from django.core.cache import cache

from knowledge import search
from knowledge.loading import load_content
from knowledge.models import ArticleVote
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def knowledge_base():
    cache.clear()
    search.set_index(None)
    load_content()
    yield
    cache.clear()
    search.set_index(None)


def test_results_appear_while_typing(live_server, knowledge_base, phone_page):
    phone_page.goto(live_server.url + "/")
    phone_page.get_by_role("searchbox").press_sequentially("钱不够", delay=50)
    results = phone_page.locator("#search-results .result")
    results.first.wait_for()
    # Results open through /search/open/ (counted for the content-gap page).
    assert results.first.locator("a").get_attribute("href").endswith("to=c%3A51")
    assert phone_page.url == live_server.url + "/"  # typing does not leave the page
    assert phone_page.locator("#search-results mark").count() >= 1


def test_enter_on_an_exact_code_opens_the_code_page(live_server, knowledge_base, phone_page):
    phone_page.goto(live_server.url + "/en/")
    box = phone_page.get_by_role("searchbox")
    box.fill("a0")
    box.press("Enter")
    phone_page.wait_for_url(live_server.url + "/en/codes/A0/")
    assert "MAC" in phone_page.get_by_role("heading", level=1).inner_text()


def test_search_works_without_javascript(live_server, knowledge_base, make_page):
    page = make_page(viewport=PHONE, javascript=False)
    page.goto(live_server.url + "/")
    page.get_by_role("searchbox").fill("POS没网")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url("**/search/?q=*")
    # Results open through /search/open/, which counts the opening for the content-gap page.
    href = page.locator(".result a").first.get_attribute("href")
    assert href.startswith("/search/open/?") and href.endswith("to=a%3Apos-network-failure")


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_vote_on_an_article(live_server, knowledge_base, make_page, javascript):
    page = make_page(viewport=PHONE, javascript=javascript)
    page.goto(live_server.url + "/articles/insufficient-balance/")
    page.get_by_role("button", name="有帮助").click()
    page.locator("#feedback").get_by_text("谢谢").wait_for()
    assert ArticleVote.objects.filter(helpful=True).count() == 1


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize(
    "path", ["/", "/codes/51/", "/articles/insufficient-balance/", "/search/?q=卡", "/codes/"]
)
def test_pages_fit_the_screen(live_server, knowledge_base, make_page, viewport, path):
    page = make_page(viewport=viewport)
    page.goto(live_server.url + path)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_checklist_steps_can_be_ticked_with_the_keyboard(live_server, knowledge_base, phone_page):
    phone_page.goto(live_server.url + "/codes/51/")
    first = phone_page.locator(".checklist input[type=checkbox]").first
    first.focus()
    phone_page.keyboard.press("Space")
    assert first.is_checked()
