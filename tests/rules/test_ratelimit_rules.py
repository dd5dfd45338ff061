"""The rate-limit rules (diagnosis/core/ratelimits.py) pinned whole: when a limit is off, what is
counted under which key, what the 429 says (JSON under /api/, a page elsewhere) and its headers.
The end-to-end limits (tickets, password reset, votes) are in tests/security/test_rate_limits.py."""

import hashlib
import json
from unittest import mock

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from diagnosis.core import ratelimits
from diagnosis.core.ratelimits import RateLimited

rf = RequestFactory()


@pytest.mark.parametrize(("given", "retry_after"), [(None, 60), (0, 1), (-5, 1), (1, 1), (2.9, 2)])
def test_rate_limited_waits_at_least_a_second(given, retry_after):
    error = RateLimited() if given is None else RateLimited(given)
    assert error.retry_after == retry_after
    assert str(error) == "rate limited"


def test_keys_are_stored_hashed():
    assert ratelimits._hashed("ip:10.0.0.1") == hashlib.sha256(b"ip:10.0.0.1").hexdigest()[:32]
    assert ratelimits._hashed("商户") == hashlib.sha256("商户".encode()).hexdigest()[:32]


@pytest.mark.parametrize("rate", [None, "", "0", " 0 ", "off", " off"])
def test_an_empty_or_zero_rate_turns_the_limit_off(rate):
    with mock.patch.object(ratelimits, "get_usage") as usage:
        for _ in range(3):
            ratelimits.check_rate(rf.get("/"), group="g", key="k", rate=rate)
    usage.assert_not_called()


def test_check_rate_counts_one_event_under_the_hashed_key():
    request = rf.get("/")
    with mock.patch.object(ratelimits, "get_usage", return_value={"should_limit": False}) as usage:
        ratelimits.check_rate(request, group="tickets", key="merchant:7", rate=" 5/m ")
    (args, kwargs) = usage.call_args
    assert args == (request,)
    assert kwargs["group"] == "tickets"
    assert kwargs["rate"] == "5/m"
    assert kwargs["increment"] is True
    assert kwargs["key"]("tickets", request) == ratelimits._hashed("merchant:7")


@pytest.mark.parametrize(
    ("usage", "retry_after"),
    [
        (None, None),  # django-ratelimit counted nothing
        ({"should_limit": False, "time_left": 30}, None),
        ({"should_limit": True, "time_left": 1234}, 1234),
        ({"should_limit": True, "time_left": 0}, 60),
        ({"should_limit": True}, 60),
    ],
)
def test_check_rate_raises_only_over_the_limit(usage, retry_after):
    with mock.patch.object(ratelimits, "get_usage", return_value=usage):
        if retry_after is None:
            ratelimits.check_rate(rf.get("/"), group="g", key="k", rate="1/m")
        else:
            with pytest.raises(RateLimited) as raised:
                ratelimits.check_rate(rf.get("/"), group="g", key="k", rate="1/m")
            assert raised.value.retry_after == retry_after


@pytest.mark.django_db
def test_the_real_counter_limits_per_group_and_key():
    def hit(group="g1", key="a"):
        ratelimits.check_rate(rf.get("/"), group=group, key=key, rate="2/h")

    hit()
    hit()
    with pytest.raises(RateLimited) as raised:
        hit()
    assert 1 <= raised.value.retry_after <= 3600
    hit(key="b")  # another key has its own counter
    hit(group="g2")  # and so has another group


def test_address_key():
    assert ratelimits.address_key(rf.get("/", REMOTE_ADDR="10.1.2.3")) == "ip:10.1.2.3"
    assert ratelimits.address_key(rf.get("/", REMOTE_ADDR="")) == "ip:unknown"


def test_rate_setting(settings):
    settings.SOME_RATE = "5/m"
    assert ratelimits.rate_setting("SOME_RATE", "9/h") == "5/m"
    settings.SOME_RATE = None
    assert ratelimits.rate_setting("SOME_RATE", "9/h") == ""
    assert ratelimits.rate_setting("NO_SUCH_RATE", "9/h") == "9/h"


def test_the_api_answer_is_json_in_the_users_language():
    with translation.override("zh-hans"):
        response = ratelimits.rate_limited_response(rf.get("/api/v1/tickets"), 7)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "7"
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content) == {
        "error": {"code": "rate_limited", "message": "请求太频繁，请 7 秒后再试。"}
    }
    assert "请求太频繁".encode() in response.content  # not \u-escaped
    with translation.override("en"):
        english = ratelimits.rate_limited_response(rf.get("/api/v1/tickets"), 30)
    message = json.loads(english.content)["error"]["message"]
    assert "30" in message
    assert "请求" not in message


@pytest.mark.django_db
def test_a_page_answer_elsewhere():
    with translation.override("zh-hans"):
        response = ratelimits.rate_limited_response(rf.get("/tickets/new/"), 42)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "42"
    assert response["Cache-Control"] == "no-store"
    assert "42" in response.content.decode()


def test_the_middleware_answers_only_rate_limited():
    middleware = ratelimits.RateLimitMiddleware(lambda request: HttpResponse("ok"))
    request = rf.get("/api/v1/tickets")
    assert middleware(request).content == b"ok"
    answer = middleware.process_exception(request, RateLimited(5))
    assert answer.status_code == 429
    assert answer["Retry-After"] == "5"
    assert middleware.process_exception(request, ValueError("other")) is None


def test_check_rate_takes_keywords_only():
    with pytest.raises(TypeError):
        ratelimits.check_rate(rf.get("/"), "g", "k", "1/m")
