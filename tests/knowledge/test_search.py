"""Search quality (recall on the query set, pinned rankings) and search behaviour.

A result matches an expectation of tests/knowledge/search_queries.json when
- {"code": C}: the result is response code C, or an article that lists C among its codes;
- {"article": S}: the result is the article with slug S;
- {"category": K}: the result (code or article) belongs to category K.
"""

import json
from pathlib import Path

import pytest

from knowledge import search
from knowledge.models import Article, Category, ResponseCode
from knowledge.search import text as T
from knowledge.selectors import article_search, code_exact

pytestmark = pytest.mark.django_db

QUERIES = json.loads((Path(__file__).parent / "search_queries.json").read_text("utf-8"))


def matches(result, expect):
    ((kind, value),) = expect.items()
    if kind == "code":
        return value in result.response_codes
    if kind == "article":
        return result.kind == "article" and result.key == value
    assert kind == "category", kind
    return result.category == value


def keys(query, lang="zh-hans", limit=10):
    return [r.key for r in article_search(query=query, lang=lang, limit=limit).results]


def test_query_set_is_large_and_balanced():
    assert len(QUERIES) >= 80
    chinese = [q for q in QUERIES if q["lang"] == "zh-hans"]
    english = [q for q in QUERIES if q["lang"] == "en"]
    assert len(chinese) >= 40 and len(english) >= 40


def test_recall_at_3_is_at_least_95_percent_in_each_language(content):
    misses = {"zh-hans": [], "en": []}
    for item in QUERIES:
        results = article_search(query=item["q"], lang=item["lang"], limit=3).results
        if not any(matches(r, item["expect"]) for r in results[:3]):
            misses[item["lang"]].append((item["q"], item["expect"], [r.key for r in results]))
    total = len(QUERIES)
    found = total - len(misses["zh-hans"]) - len(misses["en"])
    assert found / total >= 0.95, misses
    for lang, missed in misses.items():
        asked = sum(1 for q in QUERIES if q["lang"] == lang)
        assert (asked - len(missed)) / asked >= 0.95, (lang, missed)


@pytest.mark.parametrize(
    ("query", "lang", "expected"),
    [
        ("51", "zh-hans", ["51", "insufficient-balance"]),
        ("a0", "en", ["A0", "mac-key-error"]),
        ("钱不够", "zh-hans", ["51", "insufficient-balance"]),
        ("insufficent funds", "en", ["51", "insufficient-balance"]),
        ("POS没网", "zh-hans", ["pos-network-failure"]),
        ("no network on pos", "en", ["pos-network-failure"]),
        ("卡被吞了", "zh-hans", ["67", "pick-up-card", "04"]),
        ("expird card", "en", ["expired-card", "54"]),
        ("刷卡提示过期卡", "zh-hans", ["54", "33"]),
        ("MAC校验错", "zh-hans", ["A0", "mac-key-error"]),
    ],
)
def test_pinned_rankings(content, query, lang, expected):
    assert keys(query, lang)[: len(expected)] == expected


def test_same_results_in_both_display_languages(content):
    assert keys("余额不足", "zh-hans") == keys("余额不足", "en")
    english = article_search(query="余额不足", lang="en").results[0]
    assert english.url.startswith("/en/")
    assert english.title == "51 · Not enough balance or available credit"


def test_exact_code_is_case_insensitive(content):
    assert code_exact(query="a0") == "A0"
    assert code_exact(query=" 51 ") == "51"
    assert code_exact(query="ZZ") is None
    assert code_exact(query="51 余额") is None
    outcome = article_search(query="a0", lang="zh-hans")
    assert outcome.exact_code == "A0"
    assert outcome.results[0].key == "A0"


def test_results_carry_what_the_pages_and_api_need(content):
    result = article_search(query="余额不足", lang="zh-hans").results[1]
    assert result.kind == "article"
    assert result.url == "/articles/insufficient-balance/"
    assert result.category == "funds_limits"
    assert result.response_codes == ["51"]
    assert result.summary
    assert "<mark>余额不足</mark>" in result.title_html


def test_highlighting_escapes_editor_text_first(content):
    article = Article.objects.get(slug="wrong-pin")
    article.title_zh = '<script>alert("x")</script> 密码错误 & <b>'
    article.save()
    result = next(
        r for r in article_search(query="密码错误", lang="zh-hans").results if r.key == "wrong-pin"
    )
    assert "<script>" not in result.title_html
    assert "&lt;script&gt;" in result.title_html
    assert "<mark>密码错误</mark>" in result.title_html
    assert "&amp; &lt;b&gt;" in result.title_html


def test_empty_and_nonsense_queries(content):
    assert article_search(query="", lang="en").results == []
    assert article_search(query="   ", lang="en").results == []
    assert article_search(query="qwxzv jjkk", lang="en").results == []
    long_query = "余额不足" * 500
    assert article_search(query=long_query, lang="zh-hans").results  # truncated, no error


def test_only_published_articles_are_found(content):
    article = Article.objects.get(slug="card-care")
    article.status = Article.Status.DRAFT
    article.save()
    assert "card-care" not in keys("银行卡怎么保管才不会消磁")


def test_index_follows_content_changes(content):
    assert keys("独角兽") == []  # also builds the index
    category = Category.objects.get(key="terminal")
    new = Article.objects.create(
        slug="unicorn-fault",
        category=category,
        status=Article.Status.PUBLISHED,
        title_zh="独角兽故障",
        title_en="Unicorn fault",
        summary_zh="一种罕见的终端故障。",
        summary_en="A rare terminal fault.",
    )
    assert keys("独角兽故障")[0] == "unicorn-fault"
    assert keys("unicorn", "en")[0] == "unicorn-fault"
    new.codes.add(ResponseCode.objects.get(code="A7"))
    result = article_search(query="unicorn", lang="en").results[0]
    assert result.response_codes == ["A7"]
    code = ResponseCode.objects.get(code="A7")
    code.keywords_en += "\nrainbow glitch"
    code.save()
    assert keys("rainbow glitch", "en")[0] == "A7"
    new.delete()
    assert "unicorn-fault" not in keys("unicorn", "en")


def test_index_is_cached_per_process_and_checked_against_the_shared_version(
    content, django_assert_num_queries, django_assert_max_num_queries
):
    first = search.get_index()
    with django_assert_num_queries(0):
        assert search.get_index() is first
        article_search(query="余额不足", lang="zh-hans")
    # Another process changed content: it replaced the version token in the shared cache, and
    # a worker built that version once and stored it.
    Article.objects.filter(slug="wrong-pin").update(summary_en="Changed by another process.")
    search.bump_version()
    # categories, codes, articles, their codes, the vocabulary, the synonym groups: no
    # tokenising, no query per row
    with django_assert_num_queries(6):
        built = search.load_index(search.current_version())
    search.publish(built)
    # This process only reads the stored index: its row, then the index in pieces (one here).
    with django_assert_max_num_queries(4):
        rebuilt = search.get_index()
    assert rebuilt is not first and rebuilt.token == built.token
    assert rebuilt.mapped_file  # arrays mapped from this machine's copy, not built here


def test_jieba_is_initialised_once_with_payment_terms():
    tokenizer = T.jieba_tokenizer()
    assert T.jieba_tokenizer() is tokenizer
    assert "日切" in tokenizer.lcut("日切中请稍后")
    assert "余额不足" in T.tokenize("刷卡显示余额不足")


@pytest.mark.parametrize(
    ("words", "stem"),
    [
        (["decline", "declined", "declines", "declining"], "declin"),
        (["expire", "expired", "expiry", "expires"], "expir"),
        (["retry", "retries", "retried", "retrying"], "retr"),
        (["authorize", "authorized", "authorization"], "authoriz"),
        (["freeze", "frozen", "froze", "freezing"], "freez"),
        (["card", "cards", "card's"], "card"),
    ],
)
def test_light_stemmer(words, stem):
    assert {T.stem(word) for word in words} == {stem}


def test_typos_of_longer_words_are_forgiven(content):
    index = search.get_index()
    assert index.corrections("insufficent", 11)[0][0] == "insufficient"
    assert index.corrections(T.stem("setlement"), 9)[0][0] == T.stem("settlement")
    assert index.corrections("pinn", 4) == []  # short words are never "corrected"
    assert keys("transacton timeout", "en")[:2] == ["transaction-timeout", "68"]


def test_synonyms_bridge_colloquial_and_formal_words(content):
    weights, _key, _seq = search.get_index().query_terms("钱不够")
    assert "余额不足" in weights and weights["余额不足"] < 1
    weights, _key, _seq = search.get_index().query_terms("card swallowed")
    assert {"pick", "captur", "retain"} <= set(weights)
    assert "allow" not in weights  # "swallowed" is not a typo of "allowed"
