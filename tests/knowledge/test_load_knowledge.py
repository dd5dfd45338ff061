"""load_knowledge: idempotent, updates unedited records, never overwrites editors' edits."""

import json
import shutil

import pytest
from django.core.management import CommandError, call_command

from diagnosis.management.commands.seed_demo import Command as SeedDemo
from knowledge.loading import CONTENT_DIR, load_content
from knowledge.models import Article, ArticleRevision, Category, ResponseCode

pytestmark = pytest.mark.django_db

# Every code and article of the content files (78 reference codes + the sourced additions).
CODE_COUNT = len(json.loads((CONTENT_DIR / "codes.json").read_text(encoding="utf-8")))
ARTICLE_COUNT = len(list((CONTENT_DIR / "articles").glob("*.json")))


def snapshot():
    return {
        "categories": list(Category.objects.order_by("pk").values()),
        "codes": list(ResponseCode.objects.order_by("pk").values()),
        "articles": list(Article.objects.order_by("pk").values()),
        "article_codes": list(Article.codes.through.objects.order_by("pk").values()),
        "related": list(Article.related.through.objects.order_by("pk").values()),
        "revisions": ArticleRevision.objects.count(),
    }


@pytest.fixture
def content_dir(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit_json(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def test_command_loads_everything_published(capsys):
    call_command("load_knowledge")
    out = capsys.readouterr().out
    assert f"Knowledge codes: {CODE_COUNT} created" in out
    assert Category.objects.count() == 10
    assert ResponseCode.objects.count() == CODE_COUNT
    assert Article.objects.count() == Article.objects.published().count() >= 30
    article = Article.objects.get(slug="insufficient-balance")
    assert list(article.codes.values_list("code", flat=True)) == ["51"]
    assert article.related.filter(slug="know-your-card-limits").exists()
    assert article.source_hash
    # Every loaded article starts its history with a revision (author: the content import).
    assert article.revisions.count() == 1
    assert article.revisions.get().author is None


def test_loading_twice_changes_nothing(capsys):
    call_command("load_knowledge")
    first = snapshot()
    call_command("load_knowledge")
    assert snapshot() == first
    assert f"0 created, 0 updated, {ARTICLE_COUNT} unchanged" in capsys.readouterr().out


def test_seed_demo_loads_the_knowledge_base(settings):
    assert "load_knowledge" in SeedDemo().reference_commands()
    settings.DEBUG = False
    call_command("seed_demo", verbosity=0)
    assert ResponseCode.objects.count() == CODE_COUNT


def test_changed_file_updates_a_record_nobody_edited(content_dir):
    load_content(content_dir)
    edit_json(
        content_dir / "articles" / "insufficient-balance.json",
        lambda d: d["en"].update(summary="A clearer summary from the content team."),
    )
    edit_json(
        content_dir / "codes.json",
        lambda codes: next(c for c in codes if c["code"] == "51")["meaning"].update(
            en="Not enough money on the card"
        ),
    )
    reports = load_content(content_dir)
    assert reports["articles"].updated == ["insufficient-balance"]
    assert reports["codes"].updated == ["51"]
    article = Article.objects.get(slug="insufficient-balance")
    assert article.summary_en == "A clearer summary from the content team."
    assert ResponseCode.objects.get(code="51").meaning_en == "Not enough money on the card"
    latest = article.revisions.first()
    assert latest.changed_fields == ["summary_en"]
    # And the next load sees it as unchanged again.
    assert load_content(content_dir)["articles"].updated == []


def test_changed_file_never_overwrites_an_editors_edit(content_dir):
    load_content(content_dir)
    article = Article.objects.get(slug="insufficient-balance")
    article.title_en = "Edited by an editor"
    article.save()
    code = ResponseCode.objects.get(code="51")
    code.explanation_zh = "编辑改过的解释"
    code.save()
    category = Category.objects.get(key="pin")
    category.name_en = "PIN trouble"
    category.save()
    edit_json(
        content_dir / "articles" / "insufficient-balance.json",
        lambda d: d["en"].update(title="A new title in the file"),
    )
    edit_json(
        content_dir / "codes.json",
        lambda codes: next(c for c in codes if c["code"] == "51")["explanation"].update(
            en="File changed too"
        ),
    )
    edit_json(
        content_dir / "categories.json",
        lambda cats: next(c for c in cats if c["key"] == "pin")["name"].update(en="File PIN"),
    )
    reports = load_content(content_dir)
    assert reports["articles"].kept == ["insufficient-balance"]
    assert reports["codes"].kept == ["51"]
    assert reports["categories"].kept == ["pin"]
    article.refresh_from_db()
    assert article.title_en == "Edited by an editor"
    code.refresh_from_db()
    assert code.explanation_zh == "编辑改过的解释"
    assert code.explanation_en != "File changed too"
    assert Category.objects.get(key="pin").name_en == "PIN trouble"


def test_editor_unpublishing_or_relinking_counts_as_an_edit(content_dir):
    load_content(content_dir)
    article = Article.objects.get(slug="wrong-pin")
    article.status = Article.Status.DRAFT
    article.save()
    other = Article.objects.get(slug="pin-tries-exceeded")
    other.codes.add(ResponseCode.objects.get(code="05"))
    edit_json(content_dir / "articles" / "wrong-pin.json", lambda d: d["en"].update(summary="new"))
    edit_json(
        content_dir / "articles" / "pin-tries-exceeded.json",
        lambda d: d["en"].update(summary="new"),
    )
    reports = load_content(content_dir)
    assert set(reports["articles"].kept) == {"wrong-pin", "pin-tries-exceeded"}
    assert Article.objects.get(slug="wrong-pin").status == Article.Status.DRAFT
    assert other.codes.filter(code="05").exists()


def test_new_content_is_added_next_to_existing_records(content_dir):
    load_content(content_dir)
    source = json.loads((content_dir / "articles" / "wrong-pin.json").read_text("utf-8"))
    source["slug"] = "a-new-article"
    source["related"] = ["wrong-pin"]
    (content_dir / "articles" / "a-new-article.json").write_text(
        json.dumps(source, ensure_ascii=False), encoding="utf-8"
    )
    reports = load_content(content_dir)
    assert reports["articles"].created == ["a-new-article"]
    new = Article.objects.get(slug="a-new-article")
    assert new.is_published
    assert list(new.related.values_list("slug", flat=True)) == ["wrong-pin"]


def test_invalid_content_is_refused_and_nothing_is_written(content_dir):
    edit_json(content_dir / "articles" / "wrong-pin.json", lambda d: d.update(codes=["55", "ZZ"]))
    from knowledge.loading import ContentError

    with pytest.raises(ContentError, match="unknown code ZZ"):
        load_content(content_dir)
    assert not ResponseCode.objects.exists()


def test_command_reports_invalid_content(monkeypatch, content_dir):
    edit_json(content_dir / "codes.json", lambda codes: codes[0].update(category="nope"))
    monkeypatch.setattr("knowledge.loading.CONTENT_DIR", content_dir)
    monkeypatch.setattr(
        "knowledge.management.commands.load_knowledge.load_content",
        lambda: load_content(content_dir),
    )
    with pytest.raises(CommandError, match="unknown category nope"):
        call_command("load_knowledge")
