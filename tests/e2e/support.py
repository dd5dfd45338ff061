"""Helpers shared by the browser journeys: accessibility (axe-core), page health, logins, taps.

axe-core is vendored for the tests only (tests/e2e/vendor/, MPL-2.0, see vendor/README.md).
"""

import base64
import re
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.utils import timezone
from django_otp.oath import totp

from tests import factories
from tests.e2e.conftest import PHONE

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
FULL_CARD = "6228480012345678901"  # a UnionPay-style number (62 prefix): must never come back
MASKED_CARD = "622848*********8901"

# With JavaScript disabled (journey 5) the page's timers never fire, and axe schedules its work
# with setTimeout. Only for those pages, and only inside the page under test, setTimeout is
# replaced by a microtask so that axe can finish; no page script runs there anyway.
_TIMER_SHIM = """() => {
  window.setTimeout = (fn, ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
  window.clearTimeout = () => {};
}"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@cache
def _axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core violations of the page as it is now.

    The site's CSP (script-src 'self') forbids inline scripts, so `page.add_script_tag` (which
    inlines the file) would be refused. `page.evaluate` runs through the DevTools protocol, which
    CSP does not govern, so axe is injected that way and the real CSP stays enforced for the
    journeys (no `bypass_csp` needed: a template that starts relying on an inline script still
    fails in these tests).
    """
    if getattr(page, "_dd_no_js", False):
        page.evaluate(_TIMER_SHIM)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    violations = page.evaluate(_AXE_RUN)
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page):
    violations = axe_violations(page)
    assert not violations, f"axe: serious/critical violations on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


def assert_fits_viewport(page):
    """No sideways scrolling on a phone: the document is not wider than the viewport."""
    viewport = page.viewport_size
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width}px wide at {viewport['width']}px"


def check_page(page):
    """What every journey page must satisfy: accessible, fits the screen, no CSP/JS errors."""
    assert_accessible(page)
    if page.viewport_size == PHONE:
        assert_fits_viewport(page)
    assert_no_page_errors(page)


def assert_no_page_errors(page):
    problems = getattr(page, "_dd_problems", [])
    assert not problems, f"browser reported problems on {page.url}: {problems}"


def press(page, locator):
    """Tap on a touch screen (the phone contexts), click elsewhere."""
    if page.viewport_size == PHONE:
        locator.tap()
    else:
        locator.click()


def login(page, base_url, user, *, next_path=None, password=factories.PASSWORD):
    """Log in through the real login form; lands on `next_path` (or wherever the site sends)."""
    if next_path is not None or "/accounts/login/" not in page.url:
        page.goto(base_url + "/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    fill_login_form(page, user, password=password)


def fill_login_form(page, user, *, password=factories.PASSWORD):
    page.get_by_label("用户名").fill(user.get_username())
    page.get_by_label("密码").fill(password)
    form = page.locator("main form").filter(has=page.get_by_label("密码"))
    with page.expect_navigation():
        press(page, form.get_by_role("button", name="登录"))
    pass_second_factor(page, user)


def pass_second_factor(page, user):
    """Staff pass the second step like a person would: the first time they set up an
    authenticator from the page (the secret shown as text, the code computed from it as an app
    would) and save the recovery codes; later they type a recovery code of their own."""
    if "/accounts/two-factor/setup/" in page.url:
        check_page(page)  # the QR code page: accessible, fits a phone
        secret = page.locator(".otp-secret").inner_text().replace(" ", "")
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        page.locator("input[name=code]").fill(f"{totp(key):06d}")
        with page.expect_navigation():
            press(page, page.locator("main form button[type=submit]"))
        assert "/accounts/two-factor/recovery-codes/" in page.url, page.url
        assert page.locator(".recovery-codes li").count() == 10
        with page.expect_navigation():
            press(page, page.locator("main a.button-primary"))
    elif "/accounts/two-factor/verify/" in page.url:
        from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

        device, _created = StaticDevice.objects.get_or_create(
            user=user, name="recovery", defaults={"confirmed": True}
        )
        code = StaticToken.random_token()
        StaticToken.objects.create(device=device, token=code)
        page.locator("input[name=code]").fill(code)
        with page.expect_navigation():
            press(page, page.locator("main form button[type=submit]").first)


def logout(page):
    with page.expect_navigation():
        press(page, page.locator(".site-header").get_by_role("button", name="退出"))


def transaction_time_value(hours_ago=2) -> str:
    """A datetime-local value (Beijing time, the server's TIME_ZONE) some hours ago."""
    moment = timezone.localtime(timezone.now() - timedelta(hours=hours_ago))
    return moment.strftime("%Y-%m-%dT%H:%M")


CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")


def cjk_runs(text: str) -> list[str]:
    return CJK.findall(text)
