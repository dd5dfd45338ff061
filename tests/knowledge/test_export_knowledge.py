"""`manage.py export_knowledge`: the published content back in the loader's format; export then
load changes nothing, and an editor's change travels through the files."""

import io
import json

import pytest
from django.core.management import call_command

from knowledge.loading import (
    CONTENT_DIR,
    article_db_values,
    article_values,
    code_db_values,
    code_values,
    digest,
    load_content,
    read_content,
)
from knowledge.models import Article, ResponseCode, SynonymGroup

pytestmark = pytest.mark.django_db


def export(tmp_path):
    out = io.StringIO()
    call_command("export_knowledge", "--output", str(tmp_path), stdout=out)
    return out.getvalue()


def test_export_then_load_round_trips(content, tmp_path):
    article = Article.objects.published().get(slug="insufficient-balance")
    article.title_en = "Insufficient balance (edited)"
    article.save()
    SynonymGroup.objects.filter(key="en-001").update(phrases="today\ndaily\nthis very day")
    printed = export(tmp_path)
    assert "articles:" in printed
    categories, codes, articles = read_content(tmp_path)  # the loader's own checks pass
    by_slug = {a["slug"]: a for a in articles}
    assert by_slug["insufficient-balance"]["en"]["title"] == "Insufficient balance (edited)"
    # Every exported row hashes exactly like the row in the database …
    for entry in codes:
        assert digest(code_values(entry)) == digest(
            code_db_values(ResponseCode.objects.get(code=entry["code"]))
        )
    for entry in articles:
        assert digest(article_values(entry)) == digest(
            article_db_values(Article.objects.get(slug=entry["slug"]))
        )
    # … so loading the export changes nothing.
    reports = load_content(tmp_path)
    for name, report in reports.items():
        assert report.created == [] and report.updated == [], name
    synonyms = json.loads((tmp_path / "synonyms.json").read_text(encoding="utf-8"))
    assert {
        "key": "en-001",
        "lang": "en",
        "phrases": ["today", "daily", "this very day"],
    } in synonyms


def test_drafts_are_not_exported_nor_linked(content, tmp_path):
    Article.objects.filter(slug="wrong-pin").update(status=Article.Status.DRAFT)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "wrong-pin.json").write_text("{}", encoding="utf-8")  # stale file
    export(tmp_path)
    _c, _codes, articles = read_content(tmp_path)  # no link to a missing article
    assert "wrong-pin" not in {a["slug"] for a in articles}
    assert not any("wrong-pin" in a["related"] for a in articles)


def test_the_shipped_files_export_to_the_same_content(content, tmp_path):
    export(tmp_path)
    _c, shipped_codes, shipped_articles = read_content(CONTENT_DIR)
    _c, codes, articles = read_content(tmp_path)
    assert sorted(digest(code_values(c)) for c in codes) == sorted(
        digest(code_values(c)) for c in shipped_codes
    )
    assert sorted(digest(article_values(a)) for a in articles) == sorted(
        digest(article_values(a)) for a in shipped_articles
    )


def test_an_exported_edit_reaches_a_new_installation(content, tmp_path, django_db_blocker):
    Article.objects.filter(slug="insufficient-balance").update(title_zh="新标题")
    export(tmp_path)
    Article.objects.all().delete()
    load_content(tmp_path)
    assert Article.objects.get(slug="insufficient-balance").title_zh == "新标题"
