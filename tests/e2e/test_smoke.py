import pytest

from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_home_renders_in_chinese_and_switches_to_english(live_server, make_page, viewport):
    page = make_page(viewport=viewport)
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text().startswith("POS")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(live_server.url + "/en/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Declined" in page.get_by_role("heading", level=1).inner_text()
    # No horizontal scrolling on a phone: the layout fits the viewport.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]


def test_english_browser_lands_on_english_pages(live_server, make_page):
    page = make_page(locale="en-US")
    page.goto(live_server.url + "/")
    assert page.url == live_server.url + "/en/"


def test_skip_link_is_first_focus(live_server, phone_page):
    phone_page.goto(live_server.url + "/")
    phone_page.keyboard.press("Tab")
    focused = phone_page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
