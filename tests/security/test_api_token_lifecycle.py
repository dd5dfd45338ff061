"""API tokens (issue 14, point 7): they expire, a password change revokes them, the token page
shows when each was last used, and a token sent in a query string never reaches a log line."""

import io
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from diagnosis.core.cards import CardNumberLogFilter
from diagnosis.models import ApiToken
from diagnosis.tickets.api_tokens import api_token_create, api_token_user
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_tokens_expire_after_the_configured_days(merchant_user, settings):
    token, raw = api_token_create(user=merchant_user)
    assert (token.expires_at - token.created_at).days == 365
    settings.API_TOKEN_EXPIRY_DAYS = 30
    short, raw_short = api_token_create(user=merchant_user)
    assert (short.expires_at - short.created_at).days == 30
    assert api_token_user(raw) == merchant_user
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_user(raw) is None
    response = Client().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert api_token_user(raw_short) == merchant_user


def test_changing_the_password_revokes_every_token(merchant_user):
    _token, raw = api_token_create(user=merchant_user)
    _token2, raw2 = api_token_create(user=merchant_user)
    client = Client()
    factories.sign_in(client, merchant_user)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-77",
            "new_password2": "another-long-passphrase-77",
        },
    )
    assert response.status_code == 302
    assert api_token_user(raw) is None and api_token_user(raw2) is None
    assert set(ApiToken.objects.values_list("revoked_reason", flat=True)) == {"password_changed"}
    page = client.get("/tickets/api-tokens/").content.decode()
    assert "修改密码后自动停用" in page
    # Any other way of setting a password too (reset, admin, shell): the model does it.
    _token3, raw3 = api_token_create(user=merchant_user)
    merchant_user.set_password("yet-another-passphrase-88")
    merchant_user.save()
    assert api_token_user(raw3) is None


def test_saving_the_user_without_a_new_password_keeps_tokens(merchant_user):
    _token, raw = api_token_create(user=merchant_user)
    merchant_user.first_name = "Li"
    merchant_user.save()
    assert api_token_user(raw) == merchant_user


def test_token_page_shows_last_use_expiry_and_masks_names(merchant_user):
    client = Client()
    factories.sign_in(client, merchant_user)
    client.post("/tickets/api-tokens/", {"name": "收银 4111 1111 1111 1111"})
    token = ApiToken.objects.get()
    assert token.name == "收银 411111******1111"
    page = client.get("/tickets/api-tokens/").content.decode()
    assert "从未使用" in page and f"{token.expires_at:%Y}" in page
    assert "4111 1111 1111 1111" not in page
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    page = client.get("/tickets/api-tokens/").content.decode()
    assert "从未使用" not in page


def test_a_token_in_a_query_string_never_reaches_a_log_line(merchant_user):
    _token, raw = api_token_create(user=merchant_user)
    # runserver's request log goes through the project's "server" handler and its mask filter.
    handler = next(
        h for h in logging.getLogger("django.server").handlers if h.filters
    )  # configured by LOGGING
    assert any(isinstance(f, CardNumberLogFilter) for f in handler.filters)
    stream = io.StringIO()
    probe = logging.StreamHandler(stream)
    for log_filter in handler.filters:
        probe.addFilter(log_filter)
    logger = logging.getLogger("declinedesk.probe")
    logger.addHandler(probe)
    try:
        logger.warning('"%s" %s %s', f"GET /api/v1/tickets?token={raw} HTTP/1.1", "401", "95")
        logger.warning(
            '"GET /api/v1/tickets?access_token=%s HTTP/1.1" 401', raw.replace("_", "%5F")
        )
    finally:
        logger.removeHandler(probe)
    output = stream.getvalue()
    assert raw not in output and raw[3:] not in output
    assert "dd_[hidden]" in output
    # And the request itself is refused: only the Authorization header authenticates.
    response = Client().get(f"/api/v1/tickets?token={raw}")
    assert response.status_code == 401


def test_gunicorn_logs_are_masked_too(monkeypatch, tmp_path):
    import runpy
    from pathlib import Path

    # the config makes a metrics directory for gunicorn's processes when none is set: not for
    # this one (a later subprocess would inherit a directory nobody keeps)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    config = runpy.run_path(str(Path(__file__).resolve().parents[2] / "config" / "gunicorn.py"))
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = config["logger_class"](cfg)
    for log in (logger.error_log, logger.access_log):
        assert log.handlers and all(
            any(isinstance(f, CardNumberLogFilter) for f in h.filters) for h in log.handlers
        )
