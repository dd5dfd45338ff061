import pytest

pytestmark = pytest.mark.django_db


def test_chinese_is_the_default_at_root(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in response.content.decode()
    assert "交易拒绝" in response.content.decode()


def test_english_lives_under_en(client):
    response = client.get("/en/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "Declined" in body


def test_accept_language_english_redirects_first_visit(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 302
    assert response["Location"] == "/en/"
    assert "Accept-Language" in response["Vary"]


def test_accept_language_chinese_stays(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert response.status_code == 200


def test_chosen_language_cookie_wins_over_accept_language(client):
    client.cookies["django_language"] = "zh-hans"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200


def test_non_page_urls_are_not_redirected(client):
    response = client.get("/healthz", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


def test_switcher_keeps_the_current_page(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/"
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/en/accounts/login/"})
    assert response["Location"] == "/accounts/login/"


def test_switcher_form_is_on_every_page_and_points_back_here(client):
    body = client.get("/en/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in body
    assert 'name="next" value="/en/accounts/login/"' in body
    assert 'value="zh-hans"' in body
