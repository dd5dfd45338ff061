"""The JSON API as a whole (config/api.py, config/api_urls.py): the OpenAPI document describes
exactly the API paths the URL resolver has, and every failure, hostile input included, is a JSON
error {"error": {"code", "message", "fields"?}} — never a 500 or an HTML page."""

import json
import re

import pytest
from django.conf import settings
from django.test import Client

from diagnosis.tickets.api_tokens import api_token_create
from tests.security.test_authorization_matrix import project_routes

PREFIX = "api/v1/"
# Pattern routes under /api/v1/ that are no endpoint of the document.
NOT_ENDPOINTS = {
    "api/v1/",  # the API's root: a JSON 404
    "api/v1/openapi.json",  # the document itself
    "api/v1/docs",  # the docs page (staff only)
    r"api/v1/^(?P<path>[\s\S]*)$",  # everything else: a JSON 404
}


def api_routes():
    return {route for route in project_routes() if route.startswith(PREFIX)}


def as_document_path(route: str) -> str:
    """ "api/v1/codes/<apicode:code>/" → "/api/v1/codes/{code}" (the optional slash is one path)."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).rstrip("/")


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_lists_every_api_path_of_the_resolver_and_nothing_else(document):
    endpoints = api_routes() - NOT_ENDPOINTS
    assert {"api/v1/search", "api/v1/wizard", "api/v1/tickets"} <= endpoints
    assert set(document["paths"]) == {as_document_path(route) for route in endpoints}


def test_every_documented_operation_answers_at_its_path(document, db):
    client = Client()
    for path, operations in document["paths"].items():
        url = path.replace("{code}", "51") + ("?q=51" if path.endswith("/search") else "")
        for method in operations:
            response = getattr(client, method)(url, content_type="application/json")
            assert response.status_code != 405, (method, path)
            assert response["Content-Type"] == "application/json", (method, path)
            assert response.status_code in {int(s) for s in operations[method]["responses"]}


def test_every_operation_documents_its_errors_and_the_language(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert any(p["name"] == "lang" for p in operation["parameters"]), (method, path)
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (status, path)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


@pytest.fixture
def token(merchant_user):
    return api_token_create(user=merchant_user)[1]


def post_raw(body, token, **extra):
    return Client().post(
        "/api/v1/tickets",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def assert_json_error(response, status, code):
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    return error


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[" * 100_000,  # deeper than any parser recursion limit
        '{"terminal_id": "ABCD1234", "amount": 1' + "0" * 5000 + "}",  # int too long to parse
        b"\xff\xfe{}",
        b'{"description": "\xed\xa0\x80"}',  # a surrogate as raw (invalid) UTF-8
        "",
        "null",
        "[1, 2]",
    ],
)
def test_malformed_or_hostile_json_is_a_400(token, body):
    assert_json_error(post_raw(body, token), 400, "invalid_json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        '{"description": "\\ud800"}',
        '{"terminal_id": "AB\\udfffCD"}',
        '{"\\ud800": "x", "terminal_id": "ABCD1234"}',  # in a key, too
        '{"description": ["\\udc00"]}',
    ],
)
def test_lone_surrogates_are_refused(token, body):
    """A JSON escape of half a UTF-16 pair decodes, but no database or answer can carry it."""
    assert_json_error(post_raw(body, token), 400, "invalid_json")


@pytest.mark.django_db
def test_huge_body_is_a_413(token):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    body = '{"description": "' + "x" * size + '"}'
    error = assert_json_error(post_raw(body, token), 413, "too_large")
    assert "fields" not in error


@pytest.mark.django_db
def test_huge_body_without_a_token_is_refused_unread(merchant_user):
    body = "[" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = Client().post("/api/v1/tickets", body, content_type="application/json")
    assert_json_error(response, 401, "unauthorized")


@pytest.mark.django_db
def test_validation_errors_are_400_with_fields_in_the_asked_language(token):
    response = Client().get(
        "/api/v1/tickets?limit=1000&status=nope&lang=en", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    error = assert_json_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"limit", "status"}
    assert error["message"] == "Please check these fields."
    assert error["fields"]["limit"] == ["Must be at most 100."]
    zh = Client().get("/api/v1/tickets?limit=0", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert zh["error"]["fields"]["limit"] == ["不能小于 1。"]


@pytest.mark.django_db
def test_type_errors_name_the_field(token):
    body = json.dumps({"terminal_id": 12345678, "amount": False, "transaction_time": None})
    error = assert_json_error(post_raw(body, token), 400, "validation_error")
    assert error["fields"]["terminal_id"] == ["应该是字符串。"]
    assert error["fields"]["amount"] == ["应该是字符串。"]


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("post", "/api/v1/search?q=51", "GET, HEAD"),
        ("put", "/api/v1/codes/51", "GET, HEAD"),
        ("post", "/api/v1/wizard", "GET, HEAD"),
        ("delete", "/api/v1/tickets", "GET, HEAD, POST"),
        ("patch", "/api/v1/search/?q=51", "GET, HEAD"),
    ],
)
def test_other_methods_are_a_json_405(db, method, url, allowed):
    response = getattr(Client(), method)(url, HTTP_ACCEPT_LANGUAGE="en")
    error = assert_json_error(response, 405, "method_not_allowed")
    assert response["Allow"] == allowed
    assert error["message"] == f"Only {allowed} are supported."


def test_head_works_like_get(client, db):
    assert client.head("/api/v1/search?q=51").status_code == 200
    assert client.head("/api/v1/codes/ZZ").status_code == 404


@pytest.mark.parametrize(
    "url", ["/api/v1/", "/api/v1/nope", "/api/v1/codes/" + "5" * 17, "/api/v1/wizard/x"]
)
def test_unknown_api_paths_are_a_json_404(client, db, url):
    error = assert_json_error(client.get(url, HTTP_ACCEPT_LANGUAGE="en"), 404, "not_found")
    assert error["message"] == "No such API endpoint."


def test_the_docs_page_is_for_staff_and_loads_nothing_from_elsewhere(client, admin_user):
    assert client.get("/api/v1/docs")["Location"].startswith("/admin/login/")
    client.force_login(admin_user)
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui-bundle.js" in body and "/api/v1/openapi.json" in body
    sources = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "<script>" not in body  # no inline script (CSP)
