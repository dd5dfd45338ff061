"""Production headers, checked on real responses of a process started with the production
settings module (config.settings.base, DEBUG off), and in-process with the same values."""

import json

import pytest

from tests import factories
from tests.foundation.test_settings import run_django

PROBE = """
import json
from django.test import Client
client = Client()
out = {}
for url in ("/healthz", "/api/v1/nope"):
    r = client.get(url, secure=True, HTTP_HOST="help.example.com")
    out[url] = {"status": r.status_code, "headers": dict(r.items())}
r = client.get("/api/v1/nope", HTTP_HOST="help.example.com")
out["plain-http"] = {"status": r.status_code, "location": r.get("Location", "")}
r = client.get("/healthz", HTTP_HOST="help.example.com")
out["plain-healthz"] = {"status": r.status_code}
print("PROBE" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    db = tmp_path_factory.mktemp("prod") / "probe.sqlite3"
    result = run_django(
        ["shell", "-c", PROBE],
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-key-1234567890-abcdefghijklmnop",
        ALLOWED_HOSTS="help.example.com",
        DATABASE_URL=f"sqlite:///{db}",
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE"))
    return json.loads(line[len("PROBE") :])


@pytest.mark.slow
@pytest.mark.parametrize("url", ["/healthz", "/api/v1/nope"])
def test_production_headers(production, url):
    headers = production[url]["headers"]
    csp = headers["Content-Security-Policy"]
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in csp.split(";")) if part
    )
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["default-src"] == "'self'"
    hsts = headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.slow
def test_production_redirects_plain_http_except_healthz(production):
    assert production["plain-http"]["status"] == 301
    assert production["plain-http"]["location"].startswith("https://help.example.com/")
    assert production["plain-healthz"]["status"] == 200  # load balancers probe over HTTP


@pytest.mark.django_db
def test_pages_and_cookies_in_process(client, settings, merchant_user):
    """A full HTML page (not only the probe URLs) carries the same headers; cookies are secure
    and HttpOnly when the production cookie settings are on."""
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    factories.sign_in(client, merchant_user)
    response = client.get("/tickets/new/", secure=True)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    body = response.content.decode()
    assert "<script>" not in body and " style=" not in body  # nothing inline for CSP to block
    assert client.cookies["csrftoken"]["secure"]
    login = client.post("/accounts/logout/", secure=True)
    assert login.status_code == 302
    from django.test import Client

    fresh = Client()
    fresh.post(
        "/accounts/login/",
        {"username": merchant_user.username, "password": "correct-horse-battery-9"},
        secure=True,
    )
    session = fresh.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]
