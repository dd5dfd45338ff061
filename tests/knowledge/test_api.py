"""GET /api/v1/search and GET /api/v1/codes/<code>, shapes exactly as PRODUCT.md says."""

import pytest

from knowledge.models import Article

pytestmark = pytest.mark.django_db


def test_search_shape(client, content, django_assert_max_num_queries):
    client.get("/api/v1/search?q=warm")
    with django_assert_max_num_queries(0):
        response = client.get("/api/v1/search", {"q": "余额不足"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"query", "results"}
    assert data["query"] == "余额不足"
    assert 1 <= len(data["results"]) <= 10
    for result in data["results"]:
        assert set(result) == {"title", "url", "category", "response_codes", "summary"}
        assert isinstance(result["response_codes"], list)
    first, second = data["results"][:2]
    assert first == {
        "title": "51 · 余额或可用额度不够",
        "url": "/codes/51/",
        "category": "funds_limits",
        "response_codes": ["51"],
        "summary": first["summary"],
    }
    assert second["url"] == "/articles/insufficient-balance/"
    assert "<mark>" not in response.content.decode()


def test_search_is_best_first_and_at_most_ten(client, content):
    data = client.get("/api/v1/search", {"q": "卡"}).json()
    assert len(data["results"]) == 10
    exact = client.get("/api/v1/search", {"q": "a0"}).json()
    assert exact["results"][0]["response_codes"] == ["A0"]
    assert exact["results"][0]["url"] == "/codes/A0/"


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"q": "insufficient balance", "lang": "en"}, {}),
        ({"q": "insufficient balance"}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}),
    ],
)
def test_search_urls_follow_the_request_language(client, content, params, headers):
    response = client.get("/api/v1/search", params, **headers)
    results = response.json()["results"]
    assert results[0]["url"] == "/en/articles/insufficient-balance/"
    assert results[0]["title"] == "Insufficient balance (response code 51)"
    assert all(r["url"].startswith("/en/") for r in results)
    assert response["Content-Language"] == "en"


def test_search_never_shows_drafts(client, content):
    Article.objects.filter(slug="card-care").update(status=Article.Status.DRAFT)
    from knowledge import search

    search.bump_version()
    urls = [r["url"] for r in client.get("/api/v1/search", {"q": "消磁"}).json()["results"]]
    assert "/articles/card-care/" not in urls


@pytest.mark.parametrize("query", [None, "", "   "])
def test_search_without_q_is_a_400_json_error(client, content, query):
    params = {} if query is None else {"q": query}
    response = client.get("/api/v1/search", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "missing_query" and error["message"] and "q" in error["fields"]


def test_search_with_nothing_found(client, content):
    assert client.get("/api/v1/search", {"q": "qwxzv"}).json() == {"query": "qwxzv", "results": []}


def test_code_shape(client, content, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/codes/51")
    assert response.status_code == 200
    data = response.json()
    assert data == {
        "code": "51",
        "meaning": "余额或可用额度不够",
        "category": "funds_limits",
        "who_acts": "cardholder",
        "retry": "after_fix",
        "articles": data["articles"],
    }
    assert {"title": "余额不足（应答码 51）", "url": "/articles/insufficient-balance/"} in data[
        "articles"
    ]


def test_code_is_case_insensitive_and_english(client, content):
    data = client.get("/api/v1/codes/a0", {"lang": "en"}).json()
    assert data["code"] == "A0"
    assert data["meaning"] == "MAC check failed – sign in again"
    assert all(a["url"].startswith("/en/articles/") for a in data["articles"])
    assert client.get("/api/v1/codes/51/").status_code == 200


def test_code_articles_exclude_drafts(client, content):
    Article.objects.filter(slug="insufficient-balance").update(status=Article.Status.DRAFT)
    urls = [a["url"] for a in client.get("/api/v1/codes/51").json()["articles"]]
    assert "/articles/insufficient-balance/" not in urls


@pytest.mark.parametrize("code", ["ZZ", "5", "%3Cscript%3E", "0000000"])
def test_unknown_code_is_a_404_json_error(client, content, code):
    response = client.get(f"/api/v1/codes/{code}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "<script>" not in response.content.decode()


def test_only_get(client, content):
    for url in ("/api/v1/search?q=51", "/api/v1/codes/51"):
        response = client.post(url)
        assert response.status_code == 405
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_openapi_describes_both_endpoints(client):
    document = client.get("/api/v1/openapi.json").json()
    search = document["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"q"}
    assert set(search["responses"]) >= {"200", "400"}
    code = document["paths"]["/api/v1/codes/{code}"]["get"]
    assert set(code["responses"]) >= {"200", "404"}
    schemas = document["components"]["schemas"]
    assert schemas["SearchResult"]["required"] == [
        "title",
        "url",
        "category",
        "response_codes",
        "summary",
    ]
    assert set(schemas["ResponseCode"]["required"]) == {
        "code",
        "meaning",
        "category",
        "who_acts",
        "retry",
        "articles",
    }
