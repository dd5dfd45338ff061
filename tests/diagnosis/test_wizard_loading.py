"""load_wizard (idempotent, keeps editors' work), check_wizard, and seed_demo."""

import json

import pytest
from django.core.management import CommandError, call_command

from diagnosis.management.commands.seed_demo import Command as SeedDemo
from diagnosis.models import (
    WizardCodeRoute,
    WizardImport,
    WizardOption,
    WizardOutcome,
    WizardQuestion,
    WizardVersion,
)
from diagnosis.wizard.loader import CONTENT_FILE, WizardContentError, load_wizard
from diagnosis.wizard.snapshot import draft_tree
from knowledge.models import Article
from tests.diagnosis.wizard_support import load_tree, make_reference_data, small_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference(db):
    make_reference_data()


def test_first_load_creates_the_draft_and_publishes_it(reference, tmp_path):
    report = load_tree(tmp_path)
    assert report.published == 1
    assert WizardQuestion.objects.count() == 6
    assert WizardQuestion.objects.get(is_start=True).key == "q-code"
    assert WizardOutcome.objects.count() == 10
    assert WizardCodeRoute.objects.count() == 3
    tree = draft_tree()
    assert tree["questions"] == small_tree()["questions"]
    assert tree["outcomes"] == small_tree()["outcomes"]
    assert WizardVersion.objects.get().snapshot["start"] == "q-code"


def test_loading_twice_changes_nothing(reference, tmp_path):
    load_tree(tmp_path)
    before = draft_tree(), list(WizardVersion.objects.values())
    report = load_tree(tmp_path)
    assert report.unchanged_file and report.published is None
    assert (draft_tree(), list(WizardVersion.objects.values())) == before
    assert WizardImport.objects.count() == 1


def test_file_changes_reach_unedited_rows_and_are_published(reference, tmp_path):
    load_tree(tmp_path)
    tree = small_tree()
    tree["questions"][1]["text"]["zh-hans"] = "别的卡现在能刷吗？"
    tree["outcomes"][0]["causes"].append({"zh-hans": "新原因", "en": "New cause"})
    tree["code_routes"]["91"] = {"next": "q-05"}
    report = load_tree(tmp_path, tree)
    assert set(report.updated) == {"question:q-cards", "outcome:o-funds", "code:91"}
    assert report.published == 2
    assert WizardQuestion.objects.get(key="q-cards").text_zh == "别的卡现在能刷吗？"
    assert WizardOutcome.objects.get(key="o-funds").causes.count() == 3
    assert WizardCodeRoute.objects.get(code="91").next_question.key == "q-05"


def test_editors_changes_are_kept_and_their_draft_is_not_published(reference, tmp_path):
    load_tree(tmp_path)
    WizardQuestion.objects.filter(key="q-cards").update(text_zh="编辑改过的问题？")
    WizardOption.objects.filter(question__key="q-card", key="odd").delete()
    tree = small_tree()
    tree["questions"][1]["text"]["zh-hans"] = "文件里的新问题？"
    tree["questions"][2]["options"][0]["label"]["zh-hans"] = "文件改了这个选项"
    tree["outcomes"][1]["title"]["zh-hans"] = "文件改了标题"
    report = load_tree(tmp_path, tree)
    assert "question:q-cards" in report.kept_edited
    assert "question:q-card" in report.kept_edited  # an option of it was deleted by the editor
    assert "outcome:o-card" in report.updated
    assert WizardQuestion.objects.get(key="q-cards").text_zh == "编辑改过的问题？"
    assert not WizardOption.objects.filter(question__key="q-card", key="odd").exists()
    assert WizardOutcome.objects.get(key="o-card").title_zh == "文件改了标题"
    # the editors' unfinished draft was not published behind their back
    assert report.published is None and WizardVersion.objects.count() == 1


def test_items_deleted_by_editors_are_not_brought_back(reference, tmp_path):
    load_tree(tmp_path)
    WizardCodeRoute.objects.filter(code="91").delete()
    tree = small_tree()
    tree["outcomes"][0]["title"]["en"] = "Changed so the file hash changes"
    report = load_tree(tmp_path, tree)
    assert "code:91" in report.kept_deleted
    assert not WizardCodeRoute.objects.filter(code="91").exists()


def test_new_items_in_the_file_are_added(reference, tmp_path):
    load_tree(tmp_path)
    tree = small_tree()
    next(q for q in tree["questions"] if q["id"] == "q-terminal")["options"].append(
        {"id": "paper", "label": {"zh-hans": "没纸了", "en": "Out of paper"}, "next": "q-paper"}
    )
    tree["questions"].append(
        {
            "id": "q-paper",
            "kind": "choice",
            "text": {"zh-hans": "换纸后能打印吗？", "en": "Does it print after a new roll?"},
            "options": [
                {"id": "yes", "label": {"zh-hans": "能", "en": "Yes"}, "outcome": "o-terminal"},
                {"id": "no", "label": {"zh-hans": "不能", "en": "No"}, "outcome": "o-terminal"},
            ],
        }
    )
    report = load_tree(tmp_path, tree)
    assert "question:q-paper" in report.created
    assert report.published == 2
    assert WizardOption.objects.get(question__key="q-terminal", key="paper").next_question.key == (
        "q-paper"
    )


def test_invalid_file_is_refused(reference, tmp_path):
    tree = small_tree()
    tree["questions"][1]["options"][0]["next"] = "q-nowhere"
    with pytest.raises(WizardContentError) as error:
        load_tree(tmp_path, tree)
    assert "option_missing_question" in {p.kind for p in error.value.problems}
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(WizardContentError):
        load_wizard(tmp_path / "broken.json")
    assert not WizardQuestion.objects.exists()


def test_missing_knowledge_articles_stop_the_load(db, tmp_path):
    with pytest.raises(WizardContentError, match="load_knowledge"):
        load_tree(tmp_path)


def test_draft_articles_load_but_do_not_publish(reference, tmp_path):
    Article.objects.filter(slug="a-pin").update(status=Article.Status.DRAFT)
    report = load_tree(tmp_path)
    assert report.published is None
    assert [p.kind for p in report.problems] == ["article_unpublished"]
    Article.objects.filter(slug="a-pin").update(status=Article.Status.PUBLISHED)
    assert load_tree(tmp_path).published == 1  # nothing is live yet: publish once valid


def test_load_wizard_command(reference, tmp_path, capsys):
    path = tmp_path / "tree.json"
    path.write_text(json.dumps(small_tree()), encoding="utf-8")
    call_command("load_wizard", file=str(path), no_publish=True)
    assert "not published: --no-publish" in capsys.readouterr().out
    assert not WizardVersion.objects.exists()
    path.write_text('{"start": "q"}', encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_wizard", file=str(path))


def test_check_wizard_passes_on_a_good_tree(reference, tmp_path, capsys):
    load_tree(tmp_path)
    call_command("check_wizard")
    out = capsys.readouterr().out
    assert "draft: OK" in out and "live version 1: OK" in out


def test_check_wizard_fails_on_a_broken_draft(reference, tmp_path, capsys):
    load_tree(tmp_path)
    WizardOption.objects.filter(question__key="q-card", key="balance").update(outcome=None)
    with pytest.raises(CommandError) as error:
        call_command("check_wizard")
    assert error.value.returncode == 1
    out = capsys.readouterr().out
    assert "draft: 1 problem(s)" in out
    assert "[option_no_target]" in out
    assert "问题 q-card 的选项 balance 没有指向任何问题或结论。" in out
    assert "Option balance of question q-card leads to no question or outcome." in out


def test_check_wizard_checks_the_live_version_too(reference, tmp_path, capsys):
    load_tree(tmp_path)
    Article.objects.filter(slug="a-bank").update(status=Article.Status.DRAFT)
    with pytest.raises(CommandError):
        call_command("check_wizard")
    out = capsys.readouterr().out
    assert "live version 1: 1 problem(s)" in out


def test_check_wizard_on_a_file(reference, tmp_path, capsys):
    path = tmp_path / "tree.json"
    tree = small_tree()
    tree["outcomes"][0]["articles"] = []
    path.write_text(json.dumps(tree), encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("check_wizard", file=str(path))
    assert "[no_articles]" in capsys.readouterr().out


def test_check_wizard_on_the_shipped_content_after_seeding(capsys):
    call_command("load_knowledge", verbosity=0)
    call_command("load_wizard", verbosity=0)
    call_command("check_wizard")
    call_command("check_wizard", file=str(CONTENT_FILE))
    assert "problem" not in capsys.readouterr().out


def test_seed_demo_loads_the_wizard_after_the_knowledge_base():
    commands = SeedDemo().reference_commands()
    assert "load_wizard" in commands
    assert commands.index("load_knowledge") < commands.index("load_wizard")


def test_items_gone_from_the_file_are_removed_unless_an_editor_changed_them(reference, tmp_path):
    load_tree(tmp_path)
    WizardOutcome.objects.filter(key="o-data").update(title_zh="编辑改过的标题")
    tree = small_tree()
    card = next(q for q in tree["questions"] if q["id"] == "q-card")
    card["options"] = [o for o in card["options"] if o["id"] not in ("pin", "typed")]
    terminal = next(q for q in tree["questions"] if q["id"] == "q-terminal")
    terminal["options"].append(
        {"id": "pin", "label": {"zh-hans": "密码错", "en": "Wrong PIN"}, "outcome": "o-pin"}
    )
    tree["outcomes"] = [o for o in tree["outcomes"] if o["id"] != "o-data"]
    del tree["code_routes"]["91"]
    report = load_tree(tmp_path, tree, publish=False)
    assert "code:91" in report.removed  # unedited: gone with the file
    assert not WizardCodeRoute.objects.filter(code="91").exists()
    assert "outcome:o-data" in report.kept_removed  # edited by an editor: kept
    assert WizardOutcome.objects.filter(key="o-data").exists()
    # loading the same file again changes nothing; a removed item may come back later
    assert load_tree(tmp_path, tree, publish=False).unchanged_file
    tree["code_routes"]["91"] = {"outcome": "o-bank"}
    report = load_tree(tmp_path, tree, publish=False)
    assert "code:91" in report.created


def test_outcomes_loaded_before_they_had_facts_still_count_as_unedited(reference, tmp_path):
    """A database loaded before outcomes stated who acts and retry: its rows hash as they were
    loaded, so the new file fills in the facts instead of treating every outcome as edited."""
    from diagnosis.wizard.snapshot import draft_outcomes, fragment_hash

    before_facts = ("id", "category", "bank_side", "title", "summary", "causes", "articles")

    load_tree(tmp_path)
    WizardOutcome.objects.update(
        who_acts="", retry="", who_acts_note_zh="", who_acts_note_en="", retry_advice_zh="",
        retry_advice_en="",
    )  # fmt: skip
    for outcome in draft_outcomes():  # what the old loader stored: the hash without the facts
        old = {name: outcome[name] for name in before_facts}
        WizardOutcome.objects.filter(key=outcome["id"]).update(source_hash=fragment_hash(old))
    WizardImport.objects.all().delete()
    WizardImport.objects.create(file_hash="before-the-facts", keys=sorted(
        [f"outcome:{o.key}" for o in WizardOutcome.objects.all()]
        + [f"question:{q.key}" for q in WizardQuestion.objects.all()]
        + [f"code:{r.code}" for r in WizardCodeRoute.objects.all()]
    ))  # fmt: skip
    report = load_tree(tmp_path, name="again.json")
    assert report.kept_edited == []
    assert {f"outcome:{o['id']}" for o in small_tree()["outcomes"]} <= set(report.updated)
    assert set(WizardOutcome.objects.values_list("retry", flat=True)) >= {"no", "later"}
