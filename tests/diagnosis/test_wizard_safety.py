"""Advice that never costs the merchant money (issue 15), pinned on the published wizard tree.

The rules, each a test below:
- a known code is a fact: every outcome a code's route can reach is in that code's category,
  unless the outcome lists the code as an exception with a reason (at most 4 in the tree);
- codes that are not approvals never reach an outcome in `approved_or_info`; 08, 10 and 17 each
  reach an outcome of their own;
- a code whose retry is "no" never leads to a page with a retry badge or a sentence inviting
  a retry; every outcome reachable when the result is unknown (timeouts, 68, 98, "don't know if
  charged") says "check the last transaction first" and never invites a retry;
- "timed out / no answer / don't know if charged" is one answer away from every question that
  asks what the terminal did;
- every outcome states who acts and whether to retry, in both languages;
- no wizard page shows a literal Markdown marker; Chinese and English say the same numbers.
And the merchants' situations of the issue, walked through: situation → answers → outcome.
"""

import json
import re
from html import unescape

import pytest

from diagnosis.wizard.engine import WizardTree, walk
from diagnosis.wizard.loader import CONTENT_FILE
from diagnosis.wizard.pages import RETRY_INVITING
from diagnosis.wizard.snapshot import canonical_tree, draft_snapshot, live_tree
from diagnosis.wizard.validation import reachable_outcomes, validate_against_db
from knowledge.loading import CONTENT_DIR
from tests.diagnosis.test_wizard_content import all_paths
from tests.diagnosis.wizard_support import seed_real, tokens_url
from tests.knowledge.advice_rules import (
    invites_retry,
    markdown_markers,
    says_check_last,
    visible_text,
)

CONTENT = json.loads(CONTENT_FILE.read_text(encoding="utf-8"))
CODES = {c["code"]: c for c in json.loads((CONTENT_DIR / "codes.json").read_text("utf-8"))}
CATEGORIES = json.loads((CONTENT_DIR / "categories.json").read_text("utf-8"))
DECLINES = {c["key"] for c in CATEGORIES if c.get("is_decline", True)}
MAX_EXCEPTIONS = 4
# Codes whose result is unknown when they come back (the sale may have gone through).
UNKNOWN_RESULT_CODES = {"08", "09", "68", "98", "94", "C0"}
# Answers meaning "it timed out / no answer / I don't know if the customer was charged", and a
# code we can't read.
UNKNOWN_RESULT_ANSWERS = {"no-answer", "debit-sms", "charged-unsure", "unknown-code"}
# Questions that ask what the terminal did with the sale.
TERMINAL_QUESTIONS = {
    "q-code",
    "q-failed-step",
    "q-terminal-state",
    "q-network-check",
    "q-void-check",
}
NOT_INVITING = {"no", "check_first"}


def tree_of(data) -> WizardTree:
    return WizardTree(data, number=1, pk=1)


TREE = tree_of(CONTENT)
OUTCOMES = {o["id"]: o for o in CONTENT["outcomes"]}


def page_text(html: str) -> str:
    """The outcome's own content as text: heading to the feedback form (no nav, no banners)."""
    part = html.split('id="wizard-heading"', 1)[1].split('class="wizard-feedback', 1)[0]
    return visible_text(part)


def outcome_html(client, tokens, lang=""):
    response = client.get(lang + tokens_url(tokens), follow=True)
    assert response.status_code == 200, tokens
    return response.content.decode()


def retry_badge(html: str) -> str:
    facts = html.split('class="wizard-facts"', 1)[1].split("</dl>", 1)[0]
    return re.search(r'class="retry-([a-z_]+)"', facts).group(1)


# --- the published tree is the content, and it passes the publish-time rules ---------------------
@pytest.mark.django_db
def test_the_published_tree_is_the_content_file_and_passes_every_rule():
    seed_real()
    live = live_tree()
    assert canonical_tree(live.data) == canonical_tree(CONTENT)
    assert validate_against_db(draft_snapshot()) == []


# --- a known code is a fact -----------------------------------------------------------------------
def test_every_outcome_a_code_reaches_is_in_its_category_or_a_listed_exception():
    graph_tree = tree_of(CONTENT)
    from diagnosis.wizard.validation import analyse

    graph = analyse(CONTENT)
    listed = []
    for oid, o in OUTCOMES.items():
        for exception in o.get("exceptions") or []:
            reason = exception["reason"]
            assert reason["zh-hans"].strip() and reason["en"].strip(), (oid, exception)
            listed.append((exception["code"], oid))
    assert len(listed) <= MAX_EXCEPTIONS, listed
    used = set()
    for code, route in graph_tree.code_routes.items():
        category = CODES[code]["category"]
        for oid in reachable_outcomes(CONTENT, graph, route):
            if OUTCOMES[oid]["category"] != category:
                assert (code, oid) in listed, f"{code} ({category}) reaches {oid}"
                used.add((code, oid))
    assert used == set(listed)  # every listed exception is still needed


def test_declines_never_reach_an_approval_and_08_10_17_have_their_own_outcomes():
    from diagnosis.wizard.validation import analyse

    graph = analyse(CONTENT)
    reached_by = {}
    for code, route in CONTENT["code_routes"].items():
        for oid in reachable_outcomes(CONTENT, graph, route):
            reached_by.setdefault(oid, set()).add(code)
            if CODES[code]["category"] in DECLINES:
                assert OUTCOMES[oid]["category"] in DECLINES, (code, oid)
    own = {}
    for code in ("08", "10", "17"):
        (oid,) = reachable_outcomes(CONTENT, graph, CONTENT["code_routes"][code])
        assert reached_by[oid] == {code}, (code, oid, reached_by[oid])
        own[code] = OUTCOMES[oid]
    assert own["17"]["category"] in DECLINES  # nothing was collected
    assert own["08"]["retry"] == "check_first"  # confirm in the terminal before the goods
    assert own["10"]["retry"] == "no"  # don't charge the approved part twice
    approved = next(o for o in CONTENT["outcomes"] if o["id"] == "o-not-a-decline")
    text = json.dumps(approved, ensure_ascii=False)
    assert not re.search(r"\b(08|10|17)\b", text)  # no longer presented as approvals


# --- retry safety
def test_no_retry_codes_lead_only_to_outcomes_that_do_not_invite_a_retry():
    from diagnosis.wizard.validation import analyse

    graph = analyse(CONTENT)
    for code, route in CONTENT["code_routes"].items():
        if CODES[code]["retry"] != "no":
            continue
        for oid in reachable_outcomes(CONTENT, graph, route):
            assert OUTCOMES[oid]["retry"] in NOT_INVITING, (code, oid)


def unknown_result_outcomes() -> set:
    from diagnosis.wizard.validation import analyse

    graph = analyse(CONTENT)
    found = set()
    for code in UNKNOWN_RESULT_CODES:
        found |= reachable_outcomes(CONTENT, graph, CONTENT["code_routes"][code])
    for q in CONTENT["questions"]:
        for option in q["options"]:
            if option["id"] in UNKNOWN_RESULT_ANSWERS:
                found |= reachable_outcomes(CONTENT, graph, option)
    return found


def test_unknown_results_always_say_check_the_last_transaction_first():
    found = unknown_result_outcomes()
    assert {
        "o-timeout-or-duplicate",
        "o-issuer-no-reply",
        "o-duplicate-sale",
        "o-unknown-code",
        "o-honour-with-id",
    } <= found
    for oid in found:
        o = OUTCOMES[oid]
        assert o["retry"] == "check_first", oid
        for lang in ("zh-hans", "en"):
            assert says_check_last(o["summary"][lang]), (oid, lang)
            assert says_check_last(o["retry_advice"][lang]), (oid, lang)
            for text in [o["summary"][lang], o["retry_advice"][lang], o["who_acts_note"][lang]]:
                assert invites_retry(text) == [], (oid, lang, invites_retry(text))


def test_timed_out_or_unsure_is_one_answer_away_from_every_question_about_the_terminal():
    questions = {q["id"]: q for q in CONTENT["questions"]}
    for qid in TERMINAL_QUESTIONS:
        targets = [OUTCOMES.get(o.get("outcome")) for o in questions[qid]["options"]]
        assert any(t and t["retry"] == "check_first" for t in targets), qid


@pytest.mark.django_db
def test_rendered_pages_of_no_retry_and_unknown_result_paths_never_invite_a_retry(client):
    seed_real()
    tree = live_tree()
    unknown = unknown_result_outcomes()
    seen = set()
    checked = 0
    for path in all_paths(tree):
        code = path.code
        oid = path.outcome["id"]
        careful = (code and CODES[code]["retry"] == "no") or oid in unknown
        if not careful or (oid, code) in seen:
            continue
        seen.add((oid, code))
        for lang in ("", "/en"):
            html = outcome_html(client, path.tokens, lang)
            assert retry_badge(html) in NOT_INVITING, (path.tokens, lang)
            text = page_text(html)
            assert invites_retry(text) == [], (path.tokens, lang, invites_retry(text))
            if oid in unknown:
                assert says_check_last(text), (path.tokens, lang)
            checked += 1
    assert checked > 60


# --- who acts and retry: stated, never a category default
def test_every_outcome_states_who_acts_and_retry_in_both_languages():
    for o in CONTENT["outcomes"]:
        assert o["who_acts"] in {"cardholder", "merchant", "acquirer", "issuer"}, o["id"]
        assert o["retry"] in {"yes", "no", "later", "after_fix", "check_first"}, o["id"]
        for name in ("who_acts_note", "retry_advice"):
            assert o[name]["zh-hans"].strip() and o[name]["en"].strip(), (o["id"], name)
        if o["retry"] in NOT_INVITING:
            for lang in ("zh-hans", "en"):
                assert invites_retry(o["retry_advice"][lang]) == [], (o["id"], lang)


def test_who_acts_matches_the_page():
    """The cases the review found: no "the issuer acts, merchants can only wait" on a page where
    the merchant or the acquirer acts; no "ask the customer for another card" for the merchant's
    own card; 41 says the cardholder has the card replaced; 55 after two wrong PINs: no retry."""
    assert OUTCOMES["o-call-acquirer-security"]["who_acts"] == "acquirer"
    own = OUTCOMES["o-self-swipe-cash-out"]
    assert own["who_acts"] == "merchant"
    assert "请顾客换" not in own["retry_advice"]["zh-hans"] + own["who_acts_note"]["zh-hans"]
    assert walk(TREE, ["41"]).outcome["who_acts"] == "cardholder"
    assert walk(TREE, ["55", "unsure"]).outcome["retry"] == "no"


@pytest.mark.django_db
def test_the_page_shows_the_outcomes_own_facts(client):
    seed_real()
    html = outcome_html(client, ["no-code", "only-this-card", "after-send", "no-clue", "own-card"])
    facts = html.split('class="wizard-facts"', 1)[1].split("</dl>", 1)[0]
    assert "商户" in facts and "不要重试" in facts
    assert "不要再用自己、熟人或别人的卡" in facts
    assert "商户和持卡人只能等待" not in html
    html = outcome_html(client, ["35"])
    facts = html.split('class="wizard-facts"', 1)[1].split("</dl>", 1)[0]
    assert "收单机构" in facts and "发卡行" not in facts


# --- no Markdown on wizard pages; Chinese and English parallel
@pytest.mark.django_db
def test_no_wizard_page_shows_markdown(client):
    seed_real()
    tree = live_tree()
    # Every question once, and every outcome once with a code and once without (what a page
    # shows comes from the question, the outcome, its articles and the code's row).
    pages = {}
    for path in all_paths(tree):
        for n in range(len(path.tokens)):
            question = walk(tree, path.tokens[:n]).question["id"]
            pages.setdefault(("question", question), tuple(path.tokens[:n]))
        pages.setdefault((path.outcome["id"], bool(path.code)), tuple(path.tokens))
    for tokens in sorted(set(pages.values())):
        for lang in ("", "/en"):
            html = outcome_html(client, list(tokens), lang)
            main = html.split("<main", 1)[1].split("</main>", 1)[0]
            text = unescape(re.sub(r"<[^>]+>", " ", main))
            assert markdown_markers(text) == [], (tokens, lang, markdown_markers(text))


def numbers(text: str) -> set[str]:
    """Codes and figures in a text ("51", "A0", "24"), also where Chinese runs into them."""
    return set(re.findall(r"(?<![0-9A-Za-z])(?:[A-Z]?[0-9]{2,}|[A-Z][0-9])(?![0-9A-Za-z])", text))


def test_chinese_and_english_say_the_same_numbers():
    def pairs():
        for q in CONTENT["questions"]:
            yield q["id"], q["text"]
            if q.get("help"):
                yield q["id"], q["help"]
            for option in q["options"]:
                yield f"{q['id']}.{option['id']}", option["label"]
        for o in CONTENT["outcomes"]:
            for name in ("title", "summary", "who_acts_note", "retry_advice"):
                yield f"{o['id']}.{name}", o[name]
            for n, cause in enumerate(o["causes"]):
                yield f"{o['id']}.cause{n}", cause
            for e in o.get("exceptions") or []:
                yield f"{o['id']}.exception", e["reason"]

    for where, pair in pairs():
        zh, en = pair["zh-hans"], pair["en"]
        assert zh.strip() and en.strip(), where
        assert numbers(zh) == numbers(en), (where, numbers(zh), numbers(en))


# --- the merchants' situations, walked through
# (situation, answers, expected outcome, the outcome must not invite a retry)
SITUATIONS = [
    (
        "timed-out sale, debit SMS: at the code question",
        ["no-answer"],
        "o-timeout-or-duplicate",
        True,
    ),
    (
        "timed-out sale, debit SMS: no other card tried",
        ["no-code", "not-tried", "no-answer"],
        "o-timeout-or-duplicate",
        True,
    ),
    (
        "timed-out sale, debit SMS: declined after sending",
        ["no-code", "not-tried", "after-send", "debit-sms"],
        "o-timeout-or-duplicate",
        True,
    ),
    (
        "timed-out sale: the terminal hangs",
        ["no-code", "many-cards", "no-answer"],
        "o-timeout-or-duplicate",
        True,
    ),
    (
        "timed-out sale: network looks fine",
        ["no-code", "many-cards", "comm", "charged-unsure"],
        "o-timeout-or-duplicate",
        True,
    ),
    ("51 at a supermarket", ["51"], "o-insufficient-balance", False),
    (
        "no code, the customer says there isn't enough money",
        ["no-code", "only-this-card", "after-send", "no-money"],
        "o-insufficient-balance",
        False,
    ),
    ("55 twice", ["55", "unsure"], "o-pin-stop", True),
    ("55 once", ["55", "once"], "o-wrong-pin", False),
    ("55 three times", ["55", "many-wrong"], "o-pin-locked", True),
    ("05 do not honour", ["05", "none"], "o-issuer-declined", False),
    ("05 and the bank sent a verification SMS", ["05", "verify"], "o-issuer-verify", False),
    ("14 wrong card number", ["14"], "o-invalid-card-number", False),
    ("41 lost card", ["41"], "o-pick-up-card", True),
    ("43 stolen card", ["43"], "o-pick-up-card", True),
    ("54 expired", ["54"], "o-expired-card", True),
    (
        "no code, the card is expired",
        ["no-code", "only-this-card", "read", "expired"],
        "o-expired-card",
        True,
    ),
    ("61 over the limit", ["61"], "o-limit-exceeded", False),
    ("65 too many payments", ["65"], "o-count-limit", False),
    ("91 issuer down", ["91"], "o-issuer-system-fault", False),
    ("96 and every card fails", ["96", "all-fail"], "o-switch-fault", False),
    ("96 just once", ["96", "only-this"], "o-host-error-once", False),
    ("98 no reply from the issuer", ["98"], "o-issuer-no-reply", True),
    ("A0 MAC error", ["A0"], "o-terminal-sign-in", False),
    ("81 MAC error (acquirer's code)", ["81"], "o-terminal-sign-in", False),
    (
        "no code, sign-in fails with a key error",
        ["no-code", "terminal-odd", "sign-in", "key-error"],
        "o-terminal-sign-in",
        False,
    ),
    ("03 invalid merchant", ["03"], "o-merchant-setup-problem", True),
    ("58 not allowed on this terminal", ["58"], "o-transaction-type-not-allowed", True),
    ("34 suspected fraud", ["34"], "o-suspected-fraud", True),
    ("59 card check error", ["59"], "o-suspected-fraud", True),
    ("10 partial approval", ["10"], "o-partial-approval", True),
    ("08 honour with identification", ["08"], "o-honour-with-id", True),
    ("17 customer cancellation", ["17"], "o-customer-cancelled", False),
    (
        "next-day void (no code)",
        ["no-code", "only-this-card", "void", "next-day-void"],
        "o-use-refund-instead",
        False,
    ),
    ("next-day void (code 12)", ["12", "next-day-void"], "o-use-refund-instead", False),
    ("refund: the original is not found (25)", ["25"], "o-original-mismatch", False),
    ("unknown letter code typed", ["E1"], "o-unknown-code", True),
    ("unknown code, no typing", ["unknown-code"], "o-unknown-code", True),
    (
        "the terminal reads no card at all",
        ["no-code", "many-cards", "no-read"],
        "o-terminal-fault",
        False,
    ),
    (
        "this card can't be read anywhere",
        ["no-code", "only-this-card", "read", "looks-fine", "fails-elsewhere"],
        "o-damaged-card",
        True,
    ),
    (
        "my reader reads no card",
        ["no-code", "only-this-card", "read", "looks-fine", "reader-dead"],
        "o-terminal-fault",
        False,
    ),
    (
        "works at other shops (read fails here)",
        ["no-code", "only-this-card", "read", "looks-fine", "works-elsewhere"],
        "o-card-read-error",
        False,
    ),
    (
        "works at other shops (declined here)",
        ["no-code", "only-this-card", "after-send", "no-clue", "normal", "works-elsewhere"],
        "o-card-not-supported",
        True,
    ),
    ("35 / 60 card security referral", ["60"], "o-call-acquirer-security", True),
    (
        "acquirer's risk notice, every card fails",
        ["no-code", "many-cards", "normal", "all-banks", "risk-notice"],
        "o-merchant-under-review",
        True,
    ),
    (
        "own credit card at own shop",
        ["no-code", "only-this-card", "after-send", "no-clue", "own-card"],
        "o-self-swipe-cash-out",
        True,
    ),
]


@pytest.mark.parametrize(
    ("situation", "answers", "expected", "no_retry"), SITUATIONS, ids=[s[0] for s in SITUATIONS]
)
def test_merchant_situation(situation, answers, expected, no_retry):
    current = walk(TREE, answers)
    assert current is not None and current.finished, (situation, answers)
    outcome = current.outcome
    assert outcome["id"] == expected, (situation, outcome["id"])
    if current.code and current.code_known:
        assert outcome["category"] == CODES[current.code]["category"] or any(
            e["code"] == current.code for e in outcome.get("exceptions") or []
        )
    if no_retry:
        assert outcome["retry"] in NOT_INVITING, situation
    else:
        assert outcome["retry"] in RETRY_INVITING | NOT_INVITING


def test_the_situations_cover_the_issues_list():
    codes = {s[1][0] for s in SITUATIONS}
    assert {"51", "55", "05", "14", "41", "43", "54", "61", "65", "91", "96", "98", "A0"} <= codes
    assert {"03", "58", "34", "59", "10", "08", "17"} <= codes
    assert len({s[2] for s in SITUATIONS}) >= 20


# --- the unknown code, and the article written for the code
@pytest.mark.django_db
def test_an_unknown_code_gets_an_outcome_that_keeps_the_code(client):
    seed_real()
    response = client.get("/diagnose/", {"code": "e1"}, follow=True)
    html = response.content.decode()
    assert "o-unknown-code" not in html  # ids are not shown
    assert "这个代码不在表里" in html and "E1" in html
    assert "收单机构" in html and says_check_last(page_text(html))
    assert retry_badge(html) == "check_first"
    from urllib.parse import parse_qs, urlsplit

    from diagnosis.models import WizardRun

    assert WizardRun.objects.get().code == "E1"
    token = re.search(r'name="run" value="([^"]+)"', html).group(1)
    voted = client.post("/diagnose/vote/", {"run": token, "solved": "no"}, follow=True)
    link = re.search(r'href="(/tickets/new/\?[^"]+)"', voted.content.decode()).group(1)
    assert parse_qs(urlsplit(unescape(link)).query)["code"] == ["E1"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "first"), [("97", "终端未登记"), ("13", "金额无效"), ("55", "密码错误")]
)
def test_the_article_written_for_the_code_comes_first(client, code, first):
    seed_real()
    html = outcome_html(client, [code] if code != "55" else [code, "once"])
    fixes = re.findall(r'<article class="card wizard-fix">\s*<h3><a href="[^"]+">([^<]+)</a>', html)
    assert fixes and first in fixes[0], fixes


# --- questions a cashier can answer, and pages that agree with each other -------------------------
def test_questions_ask_what_a_cashier_can_answer():
    questions = {q["id"]: q for q in CONTENT["questions"]}
    texts = json.dumps(CONTENT["questions"], ensure_ascii=False)
    # no question compares the amount with a balance the cashier can't see
    assert "q-money" not in questions and "卡里的钱（或信用额度）比起来" not in texts
    balance = [
        o
        for o in questions["q-after-send"]["options"]
        if o.get("outcome") == "o-insufficient-balance"
    ]
    assert balance and all("不确定" not in o["label"]["zh-hans"] for o in balance)
    # the terminal that reads no card at all; a plain yes/no network check; other shops
    assert any(o["id"] == "no-read" for o in questions["q-terminal-state"]["options"])
    network = {o["id"] for o in questions["q-network-check"]["options"]}
    assert {"net-ok", "net-down"} <= network
    assert any("别的店" in o["label"]["zh-hans"] for o in questions["q-final"]["options"])
    # the cutover time is each institution's own
    assert "零点" not in texts and "midnight" not in texts.replace('"id": "midnight"', "")


def test_pages_agree_on_splitting_lost_cards_and_refunds():
    limit = OUTCOMES["o-limit-exceeded"]
    assert "两张卡" not in limit["summary"]["zh-hans"] and "同一张卡" in limit["summary"]["zh-hans"]
    assert "same card" in limit["summary"]["en"]
    security = OUTCOMES["o-call-acquirer-security"]
    assert "merchant-under-risk-control" not in security["articles"]
    assert "pick-up-card" in security["articles"]
    assert "商户" not in security["causes"][0]["zh-hans"]
    assert walk(TREE, ["no-code", "only-this-card", "void", "never"]).outcome["id"] == (
        "o-transaction-type-not-allowed"
    )
    assert walk(TREE, ["no-code", "only-this-card", "void", "next-day-void"]).outcome["id"] == (
        "o-use-refund-instead"
    )
    mismatch = OUTCOMES["o-original-mismatch"]
    assert (
        "另一台POS" in mismatch["summary"]["zh-hans"]
        and "收单机构" in mismatch["summary"]["zh-hans"]
    )
