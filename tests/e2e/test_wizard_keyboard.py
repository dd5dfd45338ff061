"""The wizard can be completed with the keyboard alone (Tab, Shift+Tab, Enter and typing): no
mouse, no tap. Every control reached shows where the focus is, and after each answer the focus
lands on the new question instead of starting again at the top of the page."""

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import DESKTOP
from tests.e2e.support import check_page
from tests.e2e.test_journey_wizard_ticket import LAST, ROUTE, label_of, wizard_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {text: "", ring: false};
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  return {text: (el.innerText || el.value || "").trim(), ring: ring, id: el.id};
}"""


def tab_to(page, text=None, *, element_id=None, limit=40) -> int:
    """Press Tab until the focused control reads `text` (or has `element_id`); returns how
    many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if (element_id is not None and focused["id"] == element_id) or (
            element_id is None and focused["text"] == text
        ):
            assert focused["ring"], f"no visible focus indicator on {focused} ({page.url})"
            return presses
    target = element_id or text
    raise AssertionError(f"{target!r} not reachable with Tab within {limit} presses on {page.url}")


@pytest.mark.parametrize(
    ("viewport", "javascript"),
    [
        pytest.param(DESKTOP, True, id="desktop"),
        pytest.param(DESKTOP, False, id="desktop-no-js"),
    ],
)
def test_wizard_with_keyboard_only(live_server, content, make_page, viewport, javascript):
    user = factories.merchant_user()
    page = make_page(viewport=viewport, javascript=javascript)
    questions, outcomes = wizard_text()
    heading = page.get_by_role("heading", level=1)
    page.goto(live_server.url + "/diagnose/")
    check_page(page)

    # The code question first: typing something that is not a code (one digit) gives a readable
    # error, the focus stays usable, and the "no code" option is still one Tab away. (A
    # well-formed code missing from the table leads to the "unknown code" outcome instead.)
    tab_to(page, element_id="wizard-code")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.locator("#wizard-code-error")).to_be_visible()
    check_page(page)

    for question_id, option_id in [*ROUTE, LAST]:
        expect(heading).to_have_text(questions[question_id]["text"]["zh-hans"])
        label, option = label_of(questions, question_id, option_id)
        if javascript and question_id != "q-code":
            # Wait for htmx's swap to have moved the focus before counting Tab presses.
            expect(heading).to_be_focused()
        presses = tab_to(page, label)
        if javascript and question_id != "q-code":
            # htmx moved the focus to the new question: its options come right after it.
            assert presses <= len(questions[question_id]["options"]), presses
        page.keyboard.press("Enter")
    expect(heading).to_have_text(outcomes[option["outcome"]]["title"]["zh-hans"])
    check_page(page)

    # "Did it solve it?" → no → record this decline → log in → the prefilled ticket form.
    tab_to(page, "没解决")
    page.keyboard.press("Enter")
    expect(page.locator("#wizard-feedback h2")).to_have_text("没解决？交给银行跟进")
    tab_to(page, "记录这笔拒绝交易，提交给银行")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(heading).to_have_text("登录")
    page.keyboard.type(user.get_username())  # the user name field has the focus already
    page.keyboard.press("Tab")
    page.keyboard.type(factories.PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(heading).to_have_text("记录被拒交易")
    expect(page.locator("section.tk-summary")).to_contain_text(
        outcomes[option["outcome"]]["title"]["zh-hans"]
    )
