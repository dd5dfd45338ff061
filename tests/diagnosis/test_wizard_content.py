"""The seeded wizard tree (diagnosis/wizard/content/wizard.json): complete, bilingual, short."""

import json
from pathlib import Path

import pytest

from diagnosis.wizard.engine import WizardTree, walk
from diagnosis.wizard.loader import CONTENT_FILE
from diagnosis.wizard.snapshot import draft_snapshot, live_tree
from diagnosis.wizard.validation import MAX_QUESTIONS, validate_against_db
from knowledge.models import Category, ResponseCode
from knowledge.taxonomy import DECLINE_CATEGORIES
from tests.diagnosis.wizard_support import seed_real

CONTENT = CONTENT_FILE
CODES = Path(__file__).resolve().parents[2] / "knowledge" / "content" / "codes.json"


@pytest.fixture(scope="module")
def content():
    return json.loads(CONTENT.read_text(encoding="utf-8"))


def all_paths(tree: WizardTree):
    """Every answer sequence from the start to an outcome (options and every routed code)."""
    finished, stack = [], [[]]
    while stack:
        tokens = stack.pop()
        current = walk(tree, tokens)
        assert current is not None, tokens
        if current.finished:
            finished.append(current)
            continue
        question = current.question
        answers = [o["id"] for o in question["options"]]
        if question["kind"] == "code":
            answers += sorted(tree.code_routes)
        assert answers, question["id"]
        stack.extend([*tokens, answer] for answer in answers)
    return finished


def test_every_path_ends_in_an_outcome_within_seven_questions(content):
    tree = WizardTree(content, number=1, pk=1)
    paths = all_paths(tree)
    assert len(paths) > 100
    assert max(len(p.answers) for p in paths) <= MAX_QUESTIONS
    assert {p.outcome["id"] for p in paths} == {o["id"] for o in content["outcomes"]}


def test_every_category_is_reachable_without_a_code(content):
    tree = WizardTree(content, number=1, pk=1)
    reached = {p.outcome["category"] for p in all_paths(tree) if not p.code}
    assert set(DECLINE_CATEGORIES) <= reached


def test_every_reference_code_has_a_route_and_clear_codes_go_straight_to_an_outcome(content):
    codes = {entry["code"] for entry in json.loads(CODES.read_text(encoding="utf-8"))}
    assert len(codes) >= 78  # the reference table's 78, plus sourced additions (76, 32, …)
    assert set(content["code_routes"]) == codes
    vague = {"05", "01", "96"}  # the brief's examples of vague codes: they continue with questions
    for code in vague:
        assert "next" in content["code_routes"][code], code
    assert content["code_routes"]["51"] == {"outcome": "o-insufficient-balance"}


def test_bank_side_outcomes_and_checkpoints(content):
    tree = WizardTree(content, number=1, pk=1)
    assert any(o.get("bank_side") for o in content["outcomes"])
    # "several cards fail / network looks fine" passes a question offering a bank-side outcome
    current = walk(tree, ["no-code", "many-cards", "normal", "midnight"])
    assert current.finished
    assert current.bank_checkpoint_outcome()["bank_side"] is True
    # …while "only this card, read error" does not
    current = walk(tree, ["no-code", "only-this-card", "read", "damaged"])
    assert current.bank_checkpoint_outcome() is None


@pytest.mark.django_db
def test_seeded_tree_loads_validates_and_is_published():
    seed_real()
    assert validate_against_db(draft_snapshot()) == []
    tree = live_tree()
    assert tree.number == 1
    assert set(tree.code_routes) == set(ResponseCode.objects.values_list("code", flat=True))
    # category names for every category used, in both languages
    used = {o["category"] for o in tree.outcomes.values()}
    assert set(tree.categories) == used
    assert all(names["zh-hans"] and names["en"] for names in tree.categories.values())
    assert used >= set(Category.objects.filter(is_decline=True).values_list("key", flat=True))


@pytest.mark.django_db
def test_seeded_wizard_pages_in_both_languages(client):
    seed_real()
    html = client.get("/diagnose/").content.decode()
    assert "小票或POS屏幕上的应答码是多少？" in html
    html = client.get("/en/diagnose/").content.decode()
    assert "What response code is on the slip or the terminal screen?" in html
    response = client.get("/en/diagnose/?v=1&a=51", follow=True)
    html = response.content.decode()
    assert "Not enough money or credit on the card" in html
    assert "/en/articles/insufficient-balance/" in html
