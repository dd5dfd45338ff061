"""Shared helpers of the wizard tests: a small valid tree with its knowledge data, and loaders.

The small tree reaches every decline category in at most 5 questions:

    q-code (code) ── no-code ──> q-cards ── only-this ──> q-card ── balance → o-funds
       │  51 → o-funds              │                        ├─ expired → o-card
       │  05 → q-05 ── ask-bank → o-issuer, bank-down → o-bank
       │  91 → o-bank               │                        ├─ typed   → o-data
       │                            │                        ├─ pin     → o-pin
       │                            │                        └─ odd     → o-risk
       │                            └─ many ──> q-terminal ── dead → o-terminal
       │                                          ├─ offline → o-network
       │                                          └─ fine ──> q-bank ── notice → o-bank (bank side)
       │                                                        ├─ new-setup → o-acquirer
       │                                                        └─ midnight → o-network
"""

import copy
import json

from django.core.management import call_command

from diagnosis.wizard.loader import load_wizard
from knowledge.models import Article, Category, ResponseCode
from knowledge.taxonomy import DECLINE_CATEGORIES, NOT_A_DECLINE


def bi(zh, en):
    return {"zh-hans": zh, "en": en}


def _q(qid, zh, en, options, kind="choice", help_text=None):
    question = {"id": qid, "kind": kind, "text": bi(zh, en), "options": options}
    if help_text:
        question["help"] = help_text
    return question


def _opt(oid, zh, en, *, next=None, outcome=None):
    option = {"id": oid, "label": bi(zh, en)}
    if next:
        option["next"] = next
    if outcome:
        option["outcome"] = outcome
    return option


OUTCOMES = [
    # id, category, bank_side, title zh, title en
    ("o-funds", "funds_limits", False, "余额不足", "Not enough money"),
    ("o-card", "card_status", False, "卡片过期", "Card expired"),
    ("o-data", "data_entry", False, "输入有误", "Wrong details entered"),
    ("o-pin", "pin", False, "密码错误", "Wrong PIN"),
    ("o-risk", "risk_compliance", False, "风险控制", "Risk control"),
    ("o-terminal", "terminal", False, "终端故障", "Terminal fault"),
    ("o-network", "network", False, "网络故障", "Network failure"),
    ("o-bank", "issuer_system", True, "银行系统维护", "Bank system maintenance"),
    ("o-acquirer", "acquirer_config", False, "商户设置问题", "Merchant set-up problem"),
    ("o-issuer", "issuer_system", False, "发卡行拒绝", "Declined by the card's bank"),
]
# Who acts and whether to retry, stated on every outcome (no category defaults).
FACTS = {
    "o-funds": ("cardholder", "after_fix"),
    "o-card": ("cardholder", "no"),
    "o-data": ("merchant", "after_fix"),
    "o-pin": ("cardholder", "yes"),
    "o-risk": ("issuer", "no"),
    "o-terminal": ("merchant", "after_fix"),
    "o-network": ("merchant", "later"),
    "o-bank": ("issuer", "later"),
    "o-acquirer": ("acquirer", "after_fix"),
    "o-issuer": ("cardholder", "after_fix"),
}


def small_tree() -> dict:
    return copy.deepcopy(
        {
            "start": "q-code",
            "questions": [
                _q(
                    "q-code",
                    "应答码是多少？",
                    "What is the response code?",
                    [_opt("no-code", "没有应答码", "No code", next="q-cards")],
                    kind="code",
                    help_text=bi("看小票。", "Look at the slip."),
                ),
                _q(
                    "q-cards",
                    "别的卡能用吗？",
                    "Do other cards work?",
                    [
                        _opt(
                            "only-this", "能，就这张不行", "Yes, only this one fails", next="q-card"
                        ),
                        _opt("many", "好几张都不行", "Several cards fail", next="q-terminal"),
                    ],
                ),
                _q(
                    "q-card",
                    "哪种情况？",
                    "Which fits?",
                    [
                        _opt("balance", "钱可能不够", "Maybe not enough money", outcome="o-funds"),
                        _opt("expired", "卡过期了", "The card expired", outcome="o-card"),
                        _opt("typed", "手输了卡号", "Card number typed in", outcome="o-data"),
                        _opt("pin", "密码输错", "Wrong PIN", outcome="o-pin"),
                        _opt("odd", "付款人很可疑", "The payer acts oddly", outcome="o-risk"),
                    ],
                ),
                _q(
                    "q-05",
                    "顾客收到银行的短信了吗？",
                    "Did the customer get a message from the bank?",
                    [
                        _opt(
                            "ask-bank",
                            "银行要顾客联系",
                            "The bank asks them to call",
                            outcome="o-issuer",
                        ),
                        _opt(
                            "bank-down",
                            "银行说系统在维护",
                            "The bank says it's down",
                            outcome="o-bank",
                        ),
                    ],
                ),
                _q(
                    "q-terminal",
                    "终端怎么样？",
                    "How is the terminal?",
                    [
                        _opt("dead", "死机", "Frozen", outcome="o-terminal"),
                        _opt("offline", "没网", "No network", outcome="o-network"),
                        _opt(
                            "fine", "终端和网络都正常", "Terminal and network fine", next="q-bank"
                        ),
                    ],
                ),
                _q(
                    "q-bank",
                    "最近有银行通知吗？",
                    "Any bank notice lately?",
                    [
                        _opt("notice", "有维护通知", "Yes, a maintenance notice", outcome="o-bank"),
                        _opt(
                            "new-setup",
                            "刚装的终端",
                            "Terminal just installed",
                            outcome="o-acquirer",
                        ),
                        _opt("midnight", "正好半夜", "It's around midnight", outcome="o-network"),
                    ],
                ),
            ],
            "code_routes": {
                "51": {"outcome": "o-funds"},
                "05": {"next": "q-05"},
                "91": {"outcome": "o-bank"},
            },
            "outcomes": [
                {
                    "id": oid,
                    "category": category,
                    "bank_side": bank_side,
                    "title": bi(zh, en),
                    "summary": bi(f"{zh}的摘要。", f"Summary of {en.lower()}."),
                    "causes": [
                        bi(f"{zh}的第一个原因", f"First cause of {en.lower()}"),
                        bi(f"{zh}的第二个原因", f"Second cause of {en.lower()}"),
                    ],
                    "articles": [f"a-{oid[2:]}"],
                    "who_acts": FACTS[oid][0],
                    "who_acts_note": bi(f"{zh}：谁来处理", f"Who acts on {en.lower()}"),
                    "retry": FACTS[oid][1],
                    "retry_advice": bi(f"{zh}：要不要重试", f"Retry advice for {en.lower()}"),
                }
                for oid, category, bank_side, zh, en in OUTCOMES
            ],
        }
    )


def make_reference_data() -> None:
    """Categories, three response codes and one published article per outcome of small_tree()."""
    categories = {}
    for position, key in enumerate(DECLINE_CATEGORIES, 1):
        categories[key] = Category.objects.create(
            key=key, name_zh=f"分类{key}", name_en=f"Category {key}", position=position
        )
    categories[NOT_A_DECLINE] = Category.objects.create(
        key=NOT_A_DECLINE, name_zh="不是拒绝", name_en="Not a decline", is_decline=False
    )
    for code, key, who, retry, vague, zh, en in [
        ("51", "funds_limits", "cardholder", "after_fix", False, "余额不足", "Not enough funds"),
        ("05", "issuer_system", "cardholder", "after_fix", True, "不予承兑", "Do not honour"),
        ("91", "issuer_system", "issuer", "later", False, "发卡行故障", "Issuer inoperative"),
    ]:
        ResponseCode.objects.create(
            code=code,
            category=categories[key],
            who_acts=who,
            retry=retry,
            vague=vague,
            meaning_zh=zh,
            meaning_en=en,
            explanation_zh=zh,
            explanation_en=en,
            retry_advice_zh=f"{zh}：处理好再试",
            retry_advice_en=f"{en}: retry once fixed",
        )
    for oid, key, _bank, zh, en in OUTCOMES:
        Article.objects.create(
            slug=f"a-{oid[2:]}",
            category=categories[key],
            status=Article.Status.PUBLISHED,
            title_zh=f"{zh}怎么办",
            title_en=f"What to do: {en}",
            summary_zh=f"{zh}的文章摘要",
            summary_en=f"Article summary: {en}",
            merchant_steps_zh=f"先**核对**{zh}\n再试一次",
            merchant_steps_en=f"First **check** {en}\nThen try again",
        )


def load_tree(tmp_path, tree=None, *, publish=True, name="wizard.json"):
    """Write a tree to a file and load it with the real loader (draft rows + publication)."""
    path = tmp_path / name
    path.write_text(json.dumps(tree or small_tree(), ensure_ascii=False), encoding="utf-8")
    return load_wizard(path, publish=publish)


def seed_small(tmp_path):
    make_reference_data()
    report = load_tree(tmp_path)
    assert report.published == 1, report.problems
    return report


def seed_real():
    """The real knowledge base and the real seeded wizard (slower: ~0.5 s)."""
    call_command("load_knowledge", verbosity=0)
    call_command("load_wizard", verbosity=0)


def tokens_url(tokens, version=1, **extra):
    from urllib.parse import urlencode

    return "/diagnose/?" + urlencode({"v": version, "a": ".".join(tokens), **extra})
