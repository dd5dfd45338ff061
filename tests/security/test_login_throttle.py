"""Login throttling cannot be bypassed (issue 14, point 4).

(a) The count lives in the database (django-axes), not in the page cache: evicting or clearing
    the cache, or many anonymous page views, reset nothing.
(b) Each attempt is counted *before* the password hash, atomically: a burst over the limit never
    reaches the password check, so the right password inside or after a burst is refused.
(c) Processes share the count: two gunicorn workers, 40 concurrent wrong guesses, then the right
    password → refused, and no more than the limit were ever checked.
Plus: the client address comes from django-ipware behind TRUSTED_PROXY_COUNT/TRUSTED_PROXIES
only; X-Forwarded-For from anyone else is ignored.
"""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.test import Client, RequestFactory

from diagnosis.core.http import client_address
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
LOCKED = "登录失败次数过多"


def login(client, username, password, address="10.0.0.1", **extra):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


@pytest.fixture
def password_checks(monkeypatch):
    """Every password check (ModelBackend.authenticate), with the account's count at that
    moment as axes has stored it."""
    from axes.models import AccessAttempt
    from django.db.models import Sum

    seen = []
    original = ModelBackend.authenticate

    def recording(self, request, username=None, password=None, **kwargs):
        counted = (
            AccessAttempt.objects.filter(username=username).aggregate(
                n=Sum("failures_since_start")
            )["n"]
            or 0
        )
        seen.append((username, counted))
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", recording)
    return seen


@pytest.mark.django_db
def test_each_attempt_is_counted_before_its_password_is_checked(merchant_user, password_checks):
    for attempt in range(1, 4):
        login(Client(), merchant_user.username, "wrong")
        # When the password was checked, this attempt was already in the count.
        assert password_checks[-1] == (merchant_user.username, attempt)


@pytest.mark.django_db
def test_a_burst_over_the_limit_never_reaches_the_password_check(merchant_user, password_checks):
    answers = [login(Client(), merchant_user.username, "wrong") for _ in range(40)]
    assert len(password_checks) == 5  # LOGIN_FAILURES_PER_ACCOUNT: the rest refused unchecked
    assert sum(LOCKED in a.content.decode() for a in answers) == 35
    response = login(Client(), merchant_user.username, PASSWORD)
    assert LOCKED in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    assert len(password_checks) == 5


@pytest.mark.slow
@pytest.mark.django_db
def test_cache_eviction_and_page_views_reset_nothing(merchant_user, content):
    for _ in range(5):
        login(Client(), merchant_user.username, "wrong")
    anonymous = Client()
    for n in range(450):  # more than the local-memory cache holds (300 entries)
        anonymous.get("/search/", {"q": f"网络 {n}"})
    cache.clear()
    response = login(Client(), merchant_user.username, PASSWORD)
    assert LOCKED in response.content.decode()


@pytest.fixture
def content(db):
    from knowledge.loading import load_content

    load_content()


def test_client_address_trusts_forwarded_for_only_behind_configured_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TRUSTED_PROXIES = []
    assert client_address(request) == "10.0.0.2"  # a client can write any X-Forwarded-For
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "198.51.100.7"  # the address our one proxy saw
    settings.TRUSTED_PROXY_COUNT = 0
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    assert client_address(request) == "198.51.100.7"


@pytest.mark.django_db
def test_guesses_from_many_forged_addresses_still_lock_the_account(merchant_user):
    for n in range(5):
        login(Client(), merchant_user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    response = login(Client(), merchant_user.username, PASSWORD, address="10.0.0.9")
    assert LOCKED in response.content.decode()


# -- two gunicorn workers share the count ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(database_url: str) -> dict:
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=database_url)
    return env


def _manage(args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _attempt(base, username, password, barrier=None):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/", timeout=60).read().decode()
    token = TOKEN.search(page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    if barrier is not None:
        barrier.wait(timeout=60)
    try:
        response = opener.open(f"{base}/accounts/login/", data=data, timeout=60)
        return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.geturl(), error.read().decode()


@pytest.mark.slow
def test_two_gunicorn_workers_share_the_count(tmp_path):
    env = _env(f"sqlite:///{tmp_path / 'shared.sqlite3'}")
    _manage(["migrate", "--noinput", "-v0"], env)
    _manage(
        [
            "shell",
            "-c",
            "from diagnosis.models import Merchant, Bank, User;"
            "b = Bank.objects.create(code='b', name_zh='b', name_en='b');"
            "m = Merchant.objects.create(name='m', mid='898000000000001', acquirer=b);"
            "u = User(username='victim', merchant=m); u.set_password('right-password-9');"
            "u.save()",
        ],
        env,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        barrier = threading.Barrier(40)
        with ThreadPoolExecutor(max_workers=40) as pool:
            answers = list(
                pool.map(lambda _n: _attempt(base, "victim", "wrong", barrier), range(40))
            )
        statuses = {status for status, _url, _body in answers}
        assert statuses <= {200, 503}, statuses
        checked = [body for status, _url, body in answers if status == 200 and LOCKED not in body]
        assert len(checked) <= 5  # both workers together: never more than the account's limit
        status, url, body = _attempt(base, "victim", "right-password-9")
        assert status == 200 and "/accounts/login/" in url and LOCKED in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
