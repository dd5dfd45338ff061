"""Advice that never costs the merchant money (issue 15): the knowledge base's content rules,
checked on the loaded content and on the rendered pages.

- a code whose retry is "no" never shows a retry badge or a step inviting a retry;
- no page shows a literal Markdown marker (summaries are plain text);
- Chinese and English say the same numbers and have the same number of steps;
- the article written for a code comes first on its page;
- the contradictions the review found stay fixed (splitting payments, what to tell a customer
  about a lost card, guessing down a balance, refusing refunds, blaming the merchant for a card's
  security referral);
- an unknown code gets advice, and the words merchants type (交易拒绝) are searchable.
"""

import json
import re

import pytest

from knowledge.bilingual import lines
from knowledge.loading import CONTENT_DIR
from knowledge.models import Article, ResponseCode
from knowledge.selectors import article_search
from tests.knowledge.advice_rules import (
    invites_retry,
    markdown_markers,
    says_check_last,
    visible_text,
)

pytestmark = pytest.mark.django_db

CODE_TEXTS = ["meaning", "explanation", "say_to_customer", "retry_advice"]
ARTICLE_TEXTS = ["title", "summary", "symptoms", "cause", "customer_script"]
ARTICLE_LISTS = ["merchant_steps", "cardholder_steps", "prevention"]


def main_text(response) -> str:
    html = response.content.decode()
    return visible_text(html.split("<main", 1)[1].split("</main>", 1)[0])


def numbers(text: str) -> set[str]:
    """Codes and figures of two or more characters ("51", "A0", "24"), also where Chinese runs
    into them; single digits are often words (四位 / 4 digits) and link targets don't count."""
    text = re.sub(r"\]\([^)]*\)", "]", text or "")
    return set(re.findall(r"(?<![0-9A-Za-z])(?:[A-Z]?[0-9]{2,}|[A-Z][0-9])(?![0-9A-Za-z])", text))


# --- retry safety on code pages
def test_code_pages_of_no_retry_codes_never_invite_a_retry(client, content):
    codes = list(ResponseCode.objects.filter(retry="no").order_by("code"))
    assert len(codes) > 30
    for code in codes:
        for prefix in ("", "/en"):
            response = client.get(f"{prefix}/codes/{code.code}/")
            assert response.status_code == 200
            html = response.content.decode()
            facts = html.split('class="facts"', 1)[1].split("</dl>", 1)[0]
            assert 'class="tag retry-no"' in facts, code.code
            text = main_text(response).split("相关文章")[0].split("Related articles")[0]
            assert invites_retry(text) == [], (code.code, prefix, invites_retry(text))


def test_unknown_result_codes_say_check_the_last_transaction_first(content):
    for code in ResponseCode.objects.filter(code__in=["09", "68", "98", "94", "C0", "08"]):
        for suffix in ("zh", "en"):
            text = " ".join(
                [getattr(code, f"explanation_{suffix}"), getattr(code, f"retry_advice_{suffix}")]
                + lines(getattr(code, f"merchant_steps_{suffix}"))
            )
            assert says_check_last(text), (code.code, suffix)


# --- no Markdown on any page
def test_summaries_and_titles_are_plain_text(content):
    for article in Article.objects.all():
        for name in ("title_zh", "title_en", "summary_zh", "summary_en"):
            assert markdown_markers(getattr(article, name)) == [], (article.slug, name)
    for code in ResponseCode.objects.all():
        for name in ("meaning_zh", "meaning_en", "explanation_zh", "explanation_en"):
            assert markdown_markers(getattr(code, name)) == [], (code.code, name)


def test_no_rendered_knowledge_page_shows_markdown(client, content):
    urls = ["/", "/codes/", "/search/?q=%E8%B6%85%E6%97%B6", "/search/?q=contact+acquirer"]
    urls += [f"/codes/{c}/" for c in ResponseCode.objects.values_list("code", flat=True)]
    urls += [f"/articles/{s}/" for s in Article.objects.values_list("slug", flat=True)]
    urls += [f"/categories/{k}/" for k in Article.objects.values_list("category__key", flat=True)]
    for url in sorted(set(urls)):
        for prefix in ("", "/en"):
            response = client.get(prefix + url)
            assert response.status_code == 200, prefix + url
            text = main_text(response)
            assert markdown_markers(text) == [], (prefix + url, markdown_markers(text))


def test_the_acquirer_and_timeout_summaries_render_without_asterisks(client, content):
    for url in ("/codes/03/", "/codes/97/", "/articles/escalate-to-acquirer/", "/codes/68/"):
        for prefix in ("", "/en"):
            assert "**" not in client.get(prefix + url).content.decode(), prefix + url


# --- Chinese and English parallel
def test_codes_say_the_same_in_both_languages(content):
    for code in ResponseCode.objects.all():
        for name in CODE_TEXTS:
            zh, en = getattr(code, f"{name}_zh"), getattr(code, f"{name}_en")
            assert zh.strip() and en.strip(), (code.code, name)
            assert numbers(zh) == numbers(en), (code.code, name, numbers(zh), numbers(en))
        zh_steps, en_steps = lines(code.merchant_steps_zh), lines(code.merchant_steps_en)
        assert len(zh_steps) == len(en_steps), code.code
        for zh, en in zip(zh_steps, en_steps, strict=True):
            assert numbers(zh) == numbers(en), (code.code, zh, en)


def test_articles_say_the_same_in_both_languages(content):
    for article in Article.objects.all():
        for name in ARTICLE_TEXTS:
            zh, en = getattr(article, f"{name}_zh"), getattr(article, f"{name}_en")
            assert numbers(zh) == numbers(en), (article.slug, name, numbers(zh), numbers(en))
        for name in ARTICLE_LISTS:
            zh_lines = lines(getattr(article, f"{name}_zh"))
            en_lines = lines(getattr(article, f"{name}_en"))
            assert len(zh_lines) == len(en_lines), (article.slug, name)
            for zh, en in zip(zh_lines, en_lines, strict=True):
                assert numbers(zh) == numbers(en), (article.slug, name, zh, en)


def test_english_reads_naturally_and_no_spec_jargon_is_shown(content):
    slips = ["customer copy to the customer", "Card banks", "around late night", "card acceptor"]
    for code in ResponseCode.objects.all():
        for name in CODE_TEXTS:
            assert "受卡方" not in getattr(code, f"{name}_zh"), code.code
            for slip in slips:
                assert slip not in getattr(code, f"{name}_en"), (code.code, slip)
        for step in lines(code.merchant_steps_en):
            assert not any(slip in step for slip in slips), (code.code, step)
    for article in Article.objects.all():
        for name in ARTICLE_TEXTS + ARTICLE_LISTS:
            assert "受卡方" not in getattr(article, f"{name}_zh"), (article.slug, name)
            assert not any(s in getattr(article, f"{name}_en") for s in slips), (article.slug, name)
    twenty_three = ResponseCode.objects.get(code="23")
    assert "手续费" in twenty_three.meaning_zh and "被拒" in twenty_three.meaning_zh


# --- ranking: the article written for the code first
def test_the_article_written_for_a_code_comes_first_on_its_page(client, content):
    for code, first in [
        ("13", "wrong-amount"),
        ("97", "terminal-not-registered"),
        ("55", "wrong-pin"),
    ]:
        html = client.get(f"/codes/{code}/").content.decode()
        section = html.split('id="articles-title"', 1)[1]
        assert re.search(r'href="/articles/([^/]+)/"', section).group(1) == first, code
        api = client.get(f"/api/v1/codes/{code}").json()
        assert api["articles"][0]["url"] == f"/articles/{first}/"


def test_every_code_page_lists_its_most_specific_article_first(client, content):
    for code in ResponseCode.objects.prefetch_related("articles__codes"):
        linked = [a for a in code.articles.all() if a.is_published]
        if len(linked) < 2:
            continue
        fewest = min(len(a.codes.all()) for a in linked)
        html = client.get(f"/codes/{code.code}/").content.decode()
        slug = re.search(r'href="/articles/([^/]+)/"', html.split('id="articles-title"', 1)[1])
        first = next(a for a in linked if a.slug == slug.group(1))
        assert len(first.codes.all()) == fewest, code.code


# --- contradictions stay fixed
def all_text(lang_suffix: str) -> list[tuple[str, str]]:
    found = []
    for article in Article.objects.all():
        for name in ARTICLE_TEXTS + ARTICLE_LISTS:
            found.append((article.slug, getattr(article, f"{name}_{lang_suffix}")))
    for code in ResponseCode.objects.all():
        for name in [*CODE_TEXTS, "merchant_steps"]:
            found.append((code.code, getattr(code, f"{name}_{lang_suffix}")))
    return found


def test_splitting_a_payment_is_forbidden_on_the_same_card_only(content):
    for where, text in all_text("zh"):
        for sentence in re.split(r"[。；\n]", text):
            if re.search(r"拆成|拆单|拆开", sentence) and "绕开限额" in sentence:
                assert "同一张卡" in sentence, (where, sentence)
    offer = Article.objects.get(slug="offer-other-payment-methods")
    assert "同一张卡" in offer.merchant_steps_zh and "same card" in offer.merchant_steps_en


def test_the_customer_only_hears_a_neutral_line_about_a_lost_or_stolen_card(content):
    for code in ResponseCode.objects.filter(code__in=["41", "43"]):
        assert "挂失" not in code.say_to_customer_zh and "被盗" not in code.say_to_customer_zh
    article = Article.objects.get(slug="lost-or-stolen-card")
    assert "挂失" not in article.customer_script_zh
    assert "lost" not in article.customer_script_en and "stolen" not in article.customer_script_en


def test_nobody_is_told_to_guess_the_balance_down(content):
    balance = Article.objects.get(slug="insufficient-balance")
    step = lines(balance.merchant_steps_zh)[4]
    assert "顾客自己确认" in step and "不要" in step and "降低金额" in step
    assert "smaller amount the card can cover" not in balance.merchant_steps_en
    fraud = Article.objects.get(slug="suspected-fraud-risk-control")
    assert "降低金额" in lines(fraud.merchant_steps_zh)[0]


def test_a_refund_is_never_refused_just_because_the_original_is_not_found(content):
    for slug in ("void-and-refund-rules", "original-transaction-mismatch"):
        article = Article.objects.get(slug=slug)
        zh = article.merchant_steps_zh + article.summary_zh
        assert "另一台" in zh and "批次" in zh and "收单机构" in zh, slug
        assert "不要再做退货" not in zh and "Do not run a refund" not in article.merchant_steps_en
        assert "不要直接拒绝退款" in zh or "先别拒绝退款" in zh or "不要拒绝退款" in zh, slug


def test_card_security_referrals_are_about_the_card_not_the_merchant(content):
    for code in ResponseCode.objects.filter(code__in=["35", "37", "60", "66"]):
        assert code.category.key == "risk_compliance", code.code
        assert (
            code.articles.filter(slug="suspected-fraud-risk-control").exists() or code.code == "37"
        )
    assert ResponseCode.objects.get(code="37").articles.filter(slug="pick-up-card").exists()
    sixty = ResponseCode.objects.get(code="60")
    assert "不是你的商户" in sixty.explanation_zh and "not a problem with your merchant" in (
        sixty.explanation_en
    )


# --- gaps: unknown codes, the words merchants type, training, payment methods
def test_an_unknown_code_page_says_what_to_do(client, content):
    response = client.get("/codes/E1/")
    assert response.status_code == 404
    text = main_text(response)
    assert says_check_last(text) and "收单机构" in text and "登记" in text
    assert invites_retry(text) == []
    assert "/diagnose/?code=E1" in response.content.decode()
    english = client.get("/en/codes/E1/")
    assert says_check_last(main_text(english)) and "acquirer" in main_text(english)


def test_merchants_words_are_keywords(content):
    assert ResponseCode.objects.filter(keywords_zh__contains="交易拒绝").count() >= 60
    assert Article.objects.filter(keywords_zh__contains="交易拒绝").count() >= 30
    assert [r.key for r in article_search(query="交易拒绝 51", lang="zh-hans").results][:2] == [
        "51",
        "insufficient-balance",
    ]


def test_codes_added_beyond_the_reference_name_their_sources(content):
    entries = json.loads((CONTENT_DIR / "codes.json").read_text(encoding="utf-8"))
    added = {e["code"]: e for e in entries if e.get("sources")}
    assert {"76", "32", "81", "Q2", "C0"} <= set(added)
    for code, entry in added.items():
        assert all(source.strip() for source in entry["sources"]), code
        row = ResponseCode.objects.get(code=code)
        assert row.articles.exists(), code  # explained by an article too


def test_training_and_payment_methods_are_covered(content):
    training = Article.objects.get(slug="train-your-cashiers")
    assert training.is_published and len(lines(training.merchant_steps_zh)) >= 5
    assert "先查上一笔" in training.merchant_steps_zh
    offer = Article.objects.get(slug="offer-other-payment-methods")
    for method in ("换一张卡", "扫码", "现金", "个人账户"):
        assert method in offer.cause_zh, method
    assert offer.cause_en.count("**") >= 8  # four methods, each with its strengths and risks
    expiry = Article.objects.get(slug="re-check-entered-data")
    assert "有效期" in expiry.merchant_steps_zh and "expiry" in expiry.merchant_steps_en
