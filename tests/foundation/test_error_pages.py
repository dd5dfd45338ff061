import sys
import types

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import RequestFactory
from django.urls import path
from django.utils import translation
from django.views.defaults import bad_request, permission_denied

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("card 6222021234567890123 exploded")


@pytest.fixture
def boom_urls(settings):
    import config.urls

    module = types.ModuleType("boom_urls")
    module.urlpatterns = [
        *config.urls.urlpatterns,
        *i18n_patterns(path("boom/", boom), prefix_default_language=False),
    ]
    sys.modules["boom_urls"] = module
    settings.ROOT_URLCONF = "boom_urls"
    yield
    del sys.modules["boom_urls"]


def test_404_in_chinese(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_404_in_english(client):
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.parametrize(
    ("lang", "handler", "exception", "status", "text"),
    [
        ("zh-hans", permission_denied, PermissionDenied(), 403, "没有权限"),
        ("en", permission_denied, PermissionDenied(), 403, "Access denied"),
        ("zh-hans", bad_request, SuspiciousOperation(), 400, "请求有误"),
        ("en", bad_request, SuspiciousOperation(), 400, "Bad request"),
    ],
)
def test_400_and_403_pages_in_both_languages(lang, handler, exception, status, text):
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with translation.override(lang):
        response = handler(request, exception)
    assert response.status_code == status
    assert text in response.content.decode()


@pytest.mark.parametrize(
    ("url", "text"),
    [("/boom/", "服务器出错"), ("/en/boom/", "Server error")],
)
def test_500_page_in_both_languages_without_leaking_details(client, boom_urls, url, text):
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 500
    body = response.content.decode()
    assert text in body
    assert "6222021234567890123" not in body
    assert "RuntimeError" not in body
