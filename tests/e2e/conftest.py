"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live_server.

Chromium is found in this order: $CHROMIUM_PATH, /usr/bin/chromium, `chromium` on the PATH
(`make test` installs Debian's package when missing). No browser is ever downloaded; if none can
be found the tests FAIL (never skip) and say how to get one. On a failure a screenshot and the
page HTML are saved under test-artifacts/e2e/.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the tests
# themselves (setting up data) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None:
        pytest.fail(
            "No Chromium for the browser tests. Install Debian's package "
            "(`apt-get install chromium`) or point CHROMIUM_PATH at a Chromium binary.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance, chromium_path):
    browser = playwright_instance.chromium.launch(
        executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _new_page(browser, request, *, viewport, javascript=True, locale="zh-CN"):
    context = browser.new_context(
        viewport=viewport,
        java_script_enabled=javascript,
        locale=locale,
        has_touch=viewport == PHONE,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    # What the journeys check on every page (tests/e2e/support.py): whether scripts run here,
    # and what the browser complained about — a refused resource or script (CSP) or an
    # uncaught JavaScript error.
    page._dd_no_js = not javascript
    page._dd_problems = []
    page.on("pageerror", lambda error: page._dd_problems.append(f"JS error: {error}"))
    page.on(
        "console",
        lambda message: (
            page._dd_problems.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return context, page


@pytest.fixture
def make_page(browser, request):
    """Factory: make_page(viewport=PHONE, javascript=True, locale="zh-CN") → a new page."""
    opened = []

    def factory(viewport=PHONE, javascript=True, locale="zh-CN"):
        context, page = _new_page(
            browser, request, viewport=viewport, javascript=javascript, locale=locale
        )
        opened.append((context, page))
        return page

    yield factory
    failed = getattr(request.node, "report_call", None)
    for index, (context, page) in enumerate(opened):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
                (ARTIFACTS / f"{name}-{index}.html").write_text(page.content(), encoding="utf-8")
            except Exception:  # noqa: BLE001 - artifacts are best effort; the failure stands
                pass
        context.close()


@pytest.fixture
def content(db):
    """The real knowledge base and the published wizard, loaded into the live server's database.

    Function-scoped on purpose: transactional tests flush the database after each test, and
    loading both takes about 0.15 s (bulk inserts), far less than a browser journey.
    """
    import io

    from django.core.management import call_command

    call_command("load_knowledge", verbosity=0, stdout=io.StringIO())
    call_command("load_wizard", verbosity=0, stdout=io.StringIO())


@pytest.fixture
def phone_page(make_page):
    return make_page(viewport=PHONE)


@pytest.fixture
def desktop_page(make_page):
    return make_page(viewport=DESKTOP)
