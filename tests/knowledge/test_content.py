"""The knowledge base content: complete in both languages, loaded by load_knowledge."""

import csv
import json
import re
from pathlib import Path

import pytest

from knowledge.bilingual import lines
from knowledge.models import Article, Category, ResponseCode
from knowledge.taxonomy import DECLINE_CATEGORIES, NOT_A_DECLINE

pytestmark = pytest.mark.django_db

REFERENCE = Path("/work/shared/reference/response-codes.tsv")
TAXONOMY = set(DECLINE_CATEGORIES)


def reference_codes():
    source = REFERENCE if REFERENCE.exists() else None
    if source is None:  # the reference lives outside the repository; the content must still hold
        return None
    with source.open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle, delimiter="\t")}


def test_categories_are_the_taxonomy_plus_approvals(content):
    keys = set(Category.objects.values_list("key", flat=True))
    assert keys == TAXONOMY | {NOT_A_DECLINE}
    assert not Category.objects.get(key=NOT_A_DECLINE).is_decline
    assert Category.objects.filter(is_decline=True).count() == 9
    for category in Category.objects.all():
        assert category.name_zh and category.name_en
        assert category.description_zh and category.description_en


CODES_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "content" / "codes.json"


# Where the reference says "retry later" but its own advice is "check the last transaction
# first" (the result is unknown: timeouts, duplicates), our badge says exactly that. A retry
# there can charge the customer twice, so the safe reading wins (SOURCES.md lists the conflict
# for 68/98).
RETRY_CHECK_FIRST = {"09", "68", "94", "98"}


def test_every_reference_code_is_loaded_with_the_reference_facts(content):
    reference = reference_codes()
    entries = {e["code"]: e for e in json.loads(CODES_FILE.read_text(encoding="utf-8"))}
    assert ResponseCode.objects.count() == len(entries) >= 78
    loaded = set(ResponseCode.objects.values_list("code", flat=True))
    if reference is not None:
        assert set(reference) <= loaded
        # A code the reference table doesn't have is added only with its source.
        for code in loaded - set(reference):
            assert entries[code].get("sources"), code
    for code in ResponseCode.objects.select_related("category"):
        if reference is not None and code.code in reference:
            row = reference[code.code]
            assert code.category.key == row["category"], code.code
            assert code.who_acts == row["who_acts"], code.code
            if code.code in RETRY_CHECK_FIRST:
                assert (row["retry"], code.retry) == ("later", "check_first"), code.code
            else:
                assert code.retry == row["retry"], code.code
        for suffix in ("zh", "en"):
            for name in ("meaning", "explanation", "say_to_customer", "retry_advice"):
                assert getattr(code, f"{name}_{suffix}").strip(), (code.code, name, suffix)
            assert lines(getattr(code, f"merchant_steps_{suffix}")), (code.code, suffix)
            assert lines(getattr(code, f"keywords_{suffix}")), (code.code, suffix)


def test_at_least_30_published_articles_cover_every_category(content):
    articles = Article.objects.published().select_related("category")
    assert articles.count() >= 30
    assert {a.category.key for a in articles} >= TAXONOMY
    for article in articles.prefetch_related("codes"):
        for suffix in ("zh", "en"):
            for name in ("title", "summary", "symptoms", "cause", "customer_script"):
                assert getattr(article, f"{name}_{suffix}").strip(), (article.slug, name, suffix)
            assert 3 <= len(lines(getattr(article, f"merchant_steps_{suffix}"))) <= 7
            assert 2 <= len(lines(getattr(article, f"cardholder_steps_{suffix}"))) <= 5
            assert 2 <= len(lines(getattr(article, f"prevention_{suffix}"))) <= 5
            assert len(lines(getattr(article, f"keywords_{suffix}"))) >= 5
        # Both languages have the same number of steps: they say the same things.
        for name in ("merchant_steps", "cardholder_steps", "prevention"):
            assert len(lines(getattr(article, f"{name}_zh"))) == len(
                lines(getattr(article, f"{name}_en"))
            ), (article.slug, name)


def test_every_decline_code_is_explained_by_an_article(content):
    uncovered = ResponseCode.objects.filter(category__is_decline=True, articles=None)
    assert list(uncovered.values_list("code", flat=True)) == []


# Topics, fixes and prevention tips of the product brief: (what, Chinese pattern, English pattern)
TOPICS = [
    ("insufficient balance", r"余额不足", r"(?i)insufficient balance"),
    ("expired card", r"过期|有效期", r"(?i)expired"),
    ("damaged chip or stripe", r"芯片.*(损|坏)|磁条", r"(?i)damaged chip|stripe"),
    ("reported lost", r"挂失", r"(?i)reported lost"),
    ("wrong card number", r"卡号", r"(?i)card number"),
    ("other entered data", r"核对", r"(?i)re-?check|double-check"),
    ("bank maintenance", r"系统维护", r"(?i)maintenance"),
    ("online-banking outage", r"网银|网上银行", r"(?i)online banking"),
    ("using another person's card", r"他人|别人的卡", r"(?i)someone else's card|another person"),
    ("own credit card cash-out", r"套现", r"(?i)cash(ing)?[- ]out"),
    ("legal exposure", r"违法|法律|刑事", r"(?i)illegal|law|criminal"),
    ("daily/monthly limit", r"每日|每月|月限额|单日", r"(?i)daily|monthly"),
    ("frozen card", r"冻结", r"(?i)frozen"),
    ("POS network failure", r"网络|通讯", r"(?i)network"),
    ("POS hardware failure", r"硬件|死机|开不了机", r"(?i)hardware"),
    ("POS software failure", r"软件|程序", r"(?i)software|app"),
    ("bank system anomaly", r"系统故障|系统异常", r"(?i)system (fault|error|malfunction|problem)"),
    ("balance alerts", r"提醒|短信", r"(?i)alert"),
    ("contact the issuer", r"发卡行", r"(?i)issuer|card's bank"),
    ("subscribe to bank notices", r"公告|通知", r"(?i)notice"),
    ("follow regulations", r"规定|合规", r"(?i)rules|regulation"),
    ("restart or repair the terminal", r"重启", r"(?i)restart"),
    ("give the bank time and amount", r"时间.*金额|金额.*时间", r"(?i)time.*amount|amount.*time"),
    ("magnets and heat", r"磁|高温|热", r"(?i)magnet"),
    ("protect PINs", r"遮挡|挡住|保护密码", r"(?i)cover|shield"),
    ("know card limits", r"限额", r"(?i)limit"),
    ("train staff", r"培训", r"(?i)train"),
    ("standard checkout procedure", r"收银流程|标准流程|规范", r"(?i)checkout"),
    ("other payment methods", r"扫码|二维码", r"(?i)QR"),
]


def _article_text(article, suffix):
    names = [
        "title",
        "summary",
        "symptoms",
        "cause",
        "merchant_steps",
        "customer_script",
        "cardholder_steps",
        "prevention",
    ]
    return "\n".join(getattr(article, f"{name}_{suffix}") for name in names)


@pytest.mark.parametrize(("topic", "zh", "en"), TOPICS, ids=[t[0] for t in TOPICS])
def test_brief_topics_are_covered_in_both_languages(content, topic, zh, en):
    articles = list(Article.objects.published())
    assert any(re.search(zh, _article_text(a, "zh")) for a in articles), topic
    assert any(re.search(en, _article_text(a, "en")) for a in articles), topic


def test_steps_never_ask_for_secrets(content):
    """The bank asks for time, amount and a masked card: no step asks for a PIN, CVV or number."""
    asking = re.compile(
        r"(?i)\b(ask|get)\b[^.;]{0,25}\b(for|to (tell|give|say|read))\b[^.;]{0,20}"
        r"\b(pin|cvv|cvn|card number)\b"
    )
    negation = re.compile(r"(?i)never|don't|do not|not |no one|nobody|without")
    for article in Article.objects.all():
        for name in ("merchant_steps_en", "cardholder_steps_en", "prevention_en"):
            for step in lines(getattr(article, name)):
                if asking.search(step):
                    assert negation.search(step), (article.slug, step)


def test_codes_whose_result_is_unknown_never_show_a_retry_badge(client, content):
    """Timeouts and duplicates: the code page's badge says check first, never "retry"."""
    unknown = RETRY_CHECK_FIRST | {"C0"}
    assert (
        set(
            ResponseCode.objects.filter(retry=ResponseCode.Retry.CHECK_FIRST).values_list(
                "code", flat=True
            )
        )
        == unknown
    )
    for code in sorted(unknown):
        html = client.get(f"/codes/{code}/").content.decode()
        badges = re.findall(r'class="tag retry-([a-z_]+)">([^<]*)<', html)
        assert badges == [("check_first", "先查上一笔，再决定")], code
        api = client.get(f"/api/v1/codes/{code}").json()
        assert api["retry"] == "check_first", code
