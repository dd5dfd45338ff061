"""Synonyms as content: loaded from knowledge/content/synonyms.json, edited in the admin (with a
test box), editors' edits kept across loads, and the search following an edit."""

import json
import shutil

import pytest

from knowledge.loading import CONTENT_DIR, load_content
from knowledge.models import SynonymGroup
from knowledge.search.synonyms import SYNONYM_GROUPS
from knowledge.selectors import article_search
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/knowledge/synonymgroup/"


def keys(query, lang="en"):
    return [result.key for result in article_search(query=query, lang=lang).results]


@pytest.fixture
def editor_client(client):
    factories.sign_in(client, factories.editor())
    return client


def test_the_shipped_groups_are_loaded_as_rows(content):
    assert SynonymGroup.objects.count() == len(SYNONYM_GROUPS) > 50
    group = SynonymGroup.objects.get(key="zh-001")
    assert group.lang == "zh" and "钱不够" in group.phrases.splitlines()
    assert content["synonyms"].summary().startswith(f"{len(SYNONYM_GROUPS)} created")
    again = load_content()["synonyms"]
    assert len(again.unchanged) == len(SYNONYM_GROUPS)


def test_an_editors_change_survives_a_load_an_unedited_row_follows_the_file(content, tmp_path):
    SynonymGroup.objects.filter(key="en-001").update(phrases="today\ndaily\nthis very day")
    directory = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, directory)
    groups = json.loads((directory / "synonyms.json").read_text(encoding="utf-8"))
    for group in groups:
        if group["key"] in ("en-001", "en-002"):
            group["phrases"].append("from the file")
    groups.append({"key": "en-999", "lang": "en", "phrases": ["gizmo", "terminal"]})
    (directory / "synonyms.json").write_text(json.dumps(groups), encoding="utf-8")
    report = load_content(directory)["synonyms"]
    assert report.kept == ["en-001"] and report.updated == ["en-002"]
    assert report.created == ["en-999"]
    assert "this very day" in SynonymGroup.objects.get(key="en-001").phrases
    assert "from the file" in SynonymGroup.objects.get(key="en-002").phrases


def test_a_synonym_added_in_the_admin_makes_the_search_find_the_article(content, editor_client):
    assert "51" not in keys("flurbo")
    response = editor_client.post(
        LIST_URL + "add/",
        {"key": "en-flurbo", "lang": "en", "phrases": "flurbo\n\ninsufficient funds\nflurbo"},
    )
    assert response.status_code == 302, response.content[:400]
    group = SynonymGroup.objects.get(key="en-flurbo")
    assert group.phrases == "flurbo\ninsufficient funds"  # blank lines and repeats dropped
    assert "51" in keys("flurbo")
    group.delete()
    assert "51" not in keys("flurbo")


def test_a_group_needs_two_phrases_and_keeps_what_was_typed(content, editor_client):
    response = editor_client.post(
        LIST_URL + "add/", {"key": "zh-x", "lang": "zh", "phrases": "孤单"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "至少要有两个说法" in body and "孤单" in body


def test_the_test_box_shows_the_analysis_and_the_results(content, editor_client):
    body = editor_client.get(LIST_URL, {"try": "卡里没钱"}).content.decode()
    assert "余额不足" in body  # a phrase the synonym group added
    assert "/codes/51/" in body  # what it finds
    english = editor_client.get("/en" + LIST_URL, {"try": "no money"}).content.decode()
    assert "Phrases added by synonyms" in english and "insufficient funds" in english


def test_the_add_form_is_prefilled_from_the_gap_page(content, editor_client):
    response = editor_client.get(LIST_URL + "add/", {"phrases": "刷不了卡", "lang": "zh"})
    form = response.context["adminform"].form
    assert form.initial["phrases"] == "刷不了卡" and form.initial["key"].startswith("zh-")


def test_the_synonym_pages_are_for_editors_only(client, content, agent):
    factories.sign_in(client, agent)
    assert client.get(LIST_URL).status_code in (302, 403)
