"""GET /api/v1/wizard: the published tree in PRODUCT.md's shape, in the asked language."""

import pytest

from diagnosis.models import WizardOutcome
from diagnosis.wizard.snapshot import publish_draft
from knowledge.models import Article
from tests.diagnosis.wizard_support import seed_small

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


def test_shape_is_exactly_the_product_brief(client, tree):
    response = client.get("/api/v1/wizard")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"start", "nodes", "outcomes"}
    assert data["start"] == "q-code"
    for node in data["nodes"]:
        assert set(node) == {"id", "question", "options"}
        for option in node["options"]:
            assert set(option) == {"label", "next", "outcome"}
            assert (option["next"] is None) != (option["outcome"] is None)
    for outcome in data["outcomes"]:
        assert set(outcome) == {"id", "title", "category", "articles"}
        for article in outcome["articles"]:
            assert set(article) == {"title", "url"}


def test_content_in_chinese_by_default(client, tree):
    data = client.get("/api/v1/wizard").json()
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["q-cards"]["question"] == "别的卡能用吗？"
    assert nodes["q-cards"]["options"][0] == {
        "label": "能，就这张不行",
        "next": "q-card",
        "outcome": None,
    }
    outcomes = {o["id"]: o for o in data["outcomes"]}
    assert outcomes["o-funds"] == {
        "id": "o-funds",
        "title": "余额不足",
        "category": "funds_limits",
        "articles": [{"title": "余额不足怎么办", "url": "/articles/a-funds/"}],
    }


@pytest.mark.parametrize(
    "kwargs",
    [{"data": {"lang": "en"}}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}],
)
def test_english(client, tree, kwargs):
    data = client.get("/api/v1/wizard", **kwargs).json()
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes["q-cards"]["question"] == "Do other cards work?"
    outcome = next(o for o in data["outcomes"] if o["id"] == "o-funds")
    assert outcome["title"] == "Not enough money"
    assert outcome["articles"] == [
        {"title": "What to do: Not enough money", "url": "/en/articles/a-funds/"}
    ]


def test_code_routes_are_options_of_the_code_node(client, tree):
    data = client.get("/api/v1/wizard").json()
    code_node = next(n for n in data["nodes"] if n["id"] == "q-code")
    assert code_node["options"] == [
        {"label": "没有应答码", "next": "q-cards", "outcome": None},
        {"label": "05", "next": "q-05", "outcome": None},
        {"label": "51", "next": None, "outcome": "o-funds"},
        {"label": "91", "next": None, "outcome": "o-bank"},
    ]


def test_only_published_articles_are_listed(client, tree):
    Article.objects.filter(slug="a-funds").update(status=Article.Status.DRAFT)
    data = client.get("/api/v1/wizard").json()
    assert next(o for o in data["outcomes"] if o["id"] == "o-funds")["articles"] == []


def test_serves_the_live_version_not_the_draft(client, tree, django_capture_on_commit_callbacks):
    client.get("/api/v1/wizard")
    WizardOutcome.objects.filter(key="o-funds").update(title_zh="钱不够")
    assert "钱不够" not in client.get("/api/v1/wizard").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        publish_draft()
    assert "钱不够" in client.get("/api/v1/wizard").content.decode()


def test_not_published_is_a_json_404(client, db):
    response = client.get("/api/v1/wizard")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_post_is_not_allowed(client, tree):
    assert client.post("/api/v1/wizard").status_code == 405


def test_query_count_is_constant(client, tree, django_assert_max_num_queries):
    client.get("/api/v1/wizard")
    with django_assert_max_num_queries(1):  # the articles; the tree comes from the cache
        client.get("/api/v1/wizard")


def test_openapi_describes_the_endpoint(client, db):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/wizard"]["get"]
    assert set(operation["responses"]) == {"200", "404"}
    schemas = document["components"]["schemas"]
    assert schemas["WizardTree"]["required"] == ["start", "nodes", "outcomes"]
    assert schemas["WizardOption"]["required"] == ["label", "next", "outcome"]
    article = schemas["WizardOutcome"]["properties"]["articles"]["items"]
    assert resolve(article, schemas)["required"] == ["title", "url"]


def resolve(schema, schemas):
    """A schema with its $ref followed (to #/components/schemas/…)."""
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_response_matches_the_openapi_schema(client, tree):
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]

    def check(value, schema):
        schema = resolve(schema, schemas)
        if "anyOf" in schema:  # OpenAPI 3.1: `T | null` is anyOf [T, {"type": "null"}]
            options = schema["anyOf"]
            if value is None:
                assert {"type": "null"} in options
                return
            schema = {
                **schema,
                **resolve(next(o for o in options if o != {"type": "null"}), schemas),
            }
        if value is None:
            assert schema.get("nullable")
            return
        kind = schema.get("type")
        if kind == "object":
            assert set(schema["required"]) <= set(value)
            if schema.get("additionalProperties") is False:
                assert set(value) <= set(schema["properties"])
            for key, item in value.items():
                check(item, schema["properties"][key])
        elif kind == "array":
            for item in value:
                check(item, schema["items"])
        elif kind == "string":
            assert isinstance(value, str)
            if "enum" in schema:
                assert value in schema["enum"]

    check(client.get("/api/v1/wizard").json(), {"$ref": "#/components/schemas/WizardTree"})
