"""The validator rejects each kind of broken tree, with a clear bilingual message."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnosis.wizard.validation import analyse, validate_tree
from knowledge.taxonomy import DECLINE_CATEGORIES, NOT_A_DECLINE
from tests.diagnosis.wizard_support import small_tree

ARTICLES = {f"a-{oid}": True for oid in ("funds", "card", "data", "pin", "risk")}
ARTICLES |= {f"a-{oid}": True for oid in ("terminal", "network", "bank", "acquirer", "issuer")}
CODES = {"51", "05", "91"}
CATEGORIES = {key: True for key in DECLINE_CATEGORIES} | {NOT_A_DECLINE: False}


def check(tree, **kwargs):
    context = {"articles": ARTICLES, "codes": CODES, "categories": CATEGORIES, **kwargs}
    return validate_tree(tree, **context)


def kinds(problems):
    return {p.kind for p in problems}


def question(tree, qid):
    return next(q for q in tree["questions"] if q["id"] == qid)


def outcome(tree, oid):
    return next(o for o in tree["outcomes"] if o["id"] == oid)


def test_small_tree_is_valid():
    assert check(small_tree()) == []


def test_option_pointing_to_a_missing_question():
    tree = small_tree()
    question(tree, "q-cards")["options"][0]["next"] = "q-nowhere"
    problems = check(tree)
    assert "option_missing_question" in kinds(problems)
    problem = next(p for p in problems if p.kind == "option_missing_question")
    assert problem.subject == "q-cards.only-this"
    assert "q-nowhere" in problem.text("zh-hans") and "q-nowhere" in problem.text("en")
    assert "不存在" in problem.text("zh-hans")


def test_option_pointing_to_a_missing_outcome():
    tree = small_tree()
    question(tree, "q-card")["options"][0]["outcome"] = "o-gone"
    assert "option_missing_outcome" in kinds(check(tree))


def test_option_leading_nowhere_and_option_leading_twice():
    tree = small_tree()
    del question(tree, "q-card")["options"][0]["outcome"]
    question(tree, "q-terminal")["options"][0]["next"] = "q-bank"
    problems = kinds(check(tree))
    assert {"option_no_target", "option_two_targets"} <= problems


def test_unreachable_question():
    tree = small_tree()
    tree["questions"].append(
        {
            "id": "q-orphan",
            "kind": "choice",
            "text": {"zh-hans": "孤儿问题？", "en": "Orphan?"},
            "options": [
                {"id": "a", "label": {"zh-hans": "甲", "en": "A"}, "outcome": "o-funds"},
                {"id": "b", "label": {"zh-hans": "乙", "en": "B"}, "outcome": "o-card"},
            ],
        }
    )
    problems = check(tree)
    assert [p.subject for p in problems if p.kind == "unreachable_question"] == ["q-orphan"]


def test_unreachable_outcome():
    tree = small_tree()
    question(tree, "q-bank")["options"][1]["outcome"] = "o-network"  # nothing reaches o-acquirer
    problems = check(tree)
    assert "unreachable_outcome" in kinds(problems)
    # …and then acquirer_config is no longer reachable either
    assert [p.subject for p in problems if p.kind == "category_unreachable"] == ["acquirer_config"]


def test_cycle():
    tree = small_tree()
    question(tree, "q-bank")["options"][0] = {
        "id": "notice",
        "label": {"zh-hans": "回到前面", "en": "Back to before"},
        "next": "q-cards",
    }
    problems = check(tree)
    cycles = [p for p in problems if p.kind == "cycle"]
    assert len(cycles) == 1
    assert "q-cards" in cycles[0].text("en") and "q-bank" in cycles[0].text("en")


def test_self_loop_is_a_cycle():
    tree = small_tree()
    question(tree, "q-card")["options"][0] = {
        "id": "again",
        "label": {"zh-hans": "再来", "en": "Again"},
        "next": "q-card",
    }
    assert "cycle" in kinds(check(tree))


def test_path_longer_than_seven_questions():
    tree = small_tree()
    chain = [f"q-chain-{n}" for n in range(7)]
    question(tree, "q-cards")["options"][1]["next"] = chain[0]
    for n, qid in enumerate(chain):
        nxt = {"next": chain[n + 1]} if n + 1 < len(chain) else {"next": "q-terminal"}
        tree["questions"].append(
            {
                "id": qid,
                "kind": "choice",
                "text": {"zh-hans": f"第{n}题", "en": f"Question {n}"},
                "options": [
                    {"id": "go", "label": {"zh-hans": "继续", "en": "Go on"}, **nxt},
                    {"id": "stop", "label": {"zh-hans": "停", "en": "Stop"}, "outcome": "o-funds"},
                ],
            }
        )
    problems = check(tree)
    too_long = [p for p in problems if p.kind == "too_long"]
    assert len(too_long) == 1
    assert too_long[0].params["count"] == 11  # code, cards, 7 chain, terminal, bank
    assert check(tree, max_questions=11) == []


def test_outcome_without_articles_and_with_missing_or_draft_articles():
    tree = small_tree()
    outcome(tree, "o-funds")["articles"] = []
    outcome(tree, "o-card")["articles"] = ["a-card", "no-such-article"]
    outcome(tree, "o-pin")["articles"] = ["a-draft"]
    problems = check(tree, articles={**ARTICLES, "a-draft": False})
    assert {"no_articles", "article_missing", "article_unpublished"} <= kinds(problems)
    assert next(p for p in problems if p.kind == "article_unpublished").subject == "o-pin"


def test_missing_translations_are_reported_per_language():
    tree = small_tree()
    question(tree, "q-cards")["text"]["en"] = "  "
    question(tree, "q-card")["options"][0]["label"] = {"zh-hans": "只有中文"}
    outcome(tree, "o-funds")["summary"]["zh-hans"] = ""
    outcome(tree, "o-bank")["causes"][1] = {"zh-hans": "只有中文"}
    question(tree, "q-code")["help"] = {"zh-hans": "提示", "en": ""}
    problems = [p for p in check(tree) if p.kind == "missing_translation"]
    assert len(problems) == 5
    texts = [p.text("en") for p in problems]
    assert any("English" in t for t in texts)
    assert any("Chinese" in t for t in texts)  # the o-funds summary lacks Chinese


def test_help_may_be_absent_in_both_languages():
    tree = small_tree()
    del question(tree, "q-code")["help"]
    assert check(tree) == []


def test_every_decline_category_must_be_reachable():
    tree = small_tree()
    question(tree, "q-card")["options"][3]["outcome"] = "o-funds"  # o-pin no longer reached
    problems = check(tree)
    assert [p.subject for p in problems if p.kind == "category_unreachable"] == ["pin"]


def test_code_routes():
    tree = small_tree()
    tree["code_routes"]["XX"] = {"outcome": "o-funds"}  # not a known code
    tree["code_routes"]["5"] = {"outcome": "o-funds"}  # not two characters
    tree["code_routes"]["05"] = {"next": "q-missing"}
    tree["code_routes"]["91"] = {}
    del tree["code_routes"]["51"]  # a known code without a route
    problems = check(tree)
    assert {
        "code_unknown",
        "code_bad",
        "code_missing_question",
        "code_no_target",
        "code_without_route",
    } <= kinds(problems)
    assert next(p for p in problems if p.kind == "code_without_route").subject == "51"


def test_code_routes_without_a_code_question():
    tree = small_tree()
    question(tree, "q-code")["kind"] = "choice"
    question(tree, "q-code")["options"].append(
        {"id": "other", "label": {"zh-hans": "别的", "en": "Other"}, "outcome": "o-funds"}
    )
    assert "code_routes_unused" in kinds(check(tree))


def test_start_problems_and_bad_ids_and_duplicates():
    tree = small_tree()
    tree["start"] = "q-nope"
    assert "start_missing" in kinds(check(tree))
    tree["start"] = ""
    assert "no_start" in kinds(check(tree))
    tree = small_tree()
    question(tree, "q-card")["options"][1]["id"] = "Has Spaces"
    tree["questions"].append(dict(question(tree, "q-bank")))
    problems = kinds(check(tree))
    assert {"bad_id", "duplicate_question"} <= problems


def test_choice_question_needs_two_options_and_kind_must_be_known():
    tree = small_tree()
    question(tree, "q-terminal")["options"] = question(tree, "q-terminal")["options"][:1]
    question(tree, "q-card")["kind"] = "multiple"
    assert {"too_few_options", "bad_kind"} <= kinds(check(tree))


def test_unknown_category_and_malformed_input():
    tree = small_tree()
    outcome(tree, "o-funds")["category"] = "mood"
    assert "category_unknown" in kinds(check(tree))
    assert kinds(validate_tree("not a tree")) == {"malformed"}
    assert kinds(validate_tree({"start": "x"})) == {"malformed"}


def test_validation_without_database_context_checks_structure_only():
    tree = small_tree()
    outcome(tree, "o-funds")["articles"] = ["whatever"]
    tree["code_routes"]["ZZ"] = {"outcome": "o-funds"}
    assert validate_tree(tree) == []


# --- property-based: the validator's graph checks agree with a brute-force computation ---


@st.composite
def random_trees(draw):
    n_questions = draw(st.integers(1, 7))
    n_outcomes = draw(st.integers(1, 4))
    qids = [f"q{n}" for n in range(n_questions)]
    oids = [f"o{n}" for n in range(n_outcomes)]
    target = st.one_of(
        st.sampled_from(qids).map(lambda q: {"next": q}),
        st.sampled_from(oids).map(lambda o: {"outcome": o}),
        st.just({"next": "q-missing"}),
        st.just({}),
    )
    label = {"zh-hans": "选项", "en": "Option"}
    questions = []
    for n, qid in enumerate(qids):
        options = draw(st.lists(target, min_size=0, max_size=4))
        questions.append(
            {
                "id": qid,
                "kind": "code" if n == 0 and draw(st.booleans()) else "choice",
                "text": {"zh-hans": "问题", "en": "Question"},
                "options": [{"id": f"x{i}", "label": label, **t} for i, t in enumerate(options)],
            }
        )
    routes = draw(st.dictionaries(st.sampled_from(["51", "05", "91", "A0"]), target, max_size=3))
    return {
        "start": draw(st.sampled_from(qids)),
        "questions": questions,
        "code_routes": routes,
        "outcomes": [
            {
                "id": oid,
                "category": "funds_limits",
                "bank_side": False,
                "title": {"zh-hans": "结论", "en": "Outcome"},
                "summary": {"zh-hans": "摘要", "en": "Summary"},
                "causes": [{"zh-hans": "原因", "en": "Cause"}],
                "articles": ["a"],
            }
            for oid in oids
        ],
    }


def brute_force_edges(tree):
    ids = {q["id"] for q in tree["questions"]}
    edges = {}
    for q in tree["questions"]:
        targets = [o.get("next") for o in q["options"]]
        if q["kind"] == "code":
            targets += [r.get("next") for r in tree["code_routes"].values()]
        edges[q["id"]] = {t for t in targets if t in ids}
    return edges


def brute_force_reachable(tree):
    edges = brute_force_edges(tree)
    reached = {tree["start"]}
    changed = True
    while changed:
        changed = False
        for q in list(reached):
            for nxt in edges[q]:
                if nxt not in reached:
                    reached.add(nxt)
                    changed = True
    return reached


def brute_force_on_cycle(tree):
    """Floyd–Warshall transitive closure: a question is on a cycle if it reaches itself."""
    edges = brute_force_edges(tree)
    ids = sorted(edges)
    reach = {(a, b): b in edges[a] for a in ids for b in ids}
    for k in ids:
        for a in ids:
            for b in ids:
                if reach[(a, k)] and reach[(k, b)]:
                    reach[(a, b)] = True
    return {q for q in ids if reach[(q, q)]}


def brute_force_longest(tree):
    edges = brute_force_edges(tree)

    def longest(q):
        return 1 + max((longest(n) for n in edges[q]), default=0)

    return longest(tree["start"])


@settings(max_examples=300, deadline=None)
@given(random_trees())
def test_reachability_and_cycles_agree_with_brute_force(tree):
    problems = validate_tree(tree)
    unreachable = {p.subject for p in problems if p.kind == "unreachable_question"}
    all_questions = {q["id"] for q in tree["questions"]}
    assert unreachable == all_questions - brute_force_reachable(tree)

    on_cycle = brute_force_on_cycle(tree)
    graph = analyse(tree)
    assert {q for cycle in graph.cycles for q in cycle} == on_cycle
    assert bool([p for p in problems if p.kind == "cycle"]) == bool(on_cycle)

    if not on_cycle:
        longest = brute_force_longest(tree)
        assert graph.max_questions() == longest
        assert any(p.kind == "too_long" for p in validate_tree(tree, max_questions=3)) == (
            longest > 3
        )


@pytest.mark.parametrize("lang, word", [("zh-hans", "问题"), ("en", "question")])
def test_messages_exist_in_both_languages(lang, word):
    tree = small_tree()
    tree["start"] = "q-nope"
    problem = next(p for p in check(tree) if p.kind == "start_missing")
    assert word in problem.text(lang).lower()
