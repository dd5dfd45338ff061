"""The search index is built from analyses stored with the content, and ranks exactly as the
plain implementation (tests/knowledge/reference_index.py) does.

Stored analyses are kept right by every write path: save(), changes of an article's codes, the
content loader, the benchmark generator, the data migration; and a stale one (bulk changes,
a renamed category, a new analyser) is noticed and redone when the index is built.
"""

import importlib
import json
import shutil
from pathlib import Path

import pytest
from django.apps import apps

from knowledge import search
from knowledge.loading import CONTENT_DIR, load_content
from knowledge.models import Article, Category, ResponseCode, SearchTerm
from knowledge.search import analysis as A
from tests.knowledge import helpers, reference_index

pytestmark = pytest.mark.django_db

QUERIES = [q["q"] for q in json.loads((Path(__file__).parent / "search_queries.json").read_text())]
MORE_QUERIES = [
    "51",
    "a0",
    "A7",
    "应答码12",
    "error 77",
    "how to void a sale",
    "怎么撤销交易",
    "insufficent funds",
    "transacton timeout",
    "卡被吞了怎么办",
    "余额不足 51",
    "card frozen pin wrong",
    "测试文章",
    "test article 7",
    "unicorn",
    "x" * 250,
]


def reference():
    documents = [
        reference_index.Document(
            d.kind, d.key, d.category, d.category_name, d.codes, d.title, d.summary,
            list(d.fields), list(d.phrases), d.boost,
        )
        for d in search.build_documents()
    ]  # fmt: skip
    return reference_index.SearchIndex(documents)


def outcome(found):
    return (
        [(hit.doc.key, hit.score) for hit in found.hits],
        found.highlight_cjk,
        found.highlight_latin,
        found.exact_code,
    )


def assert_same_as_reference(index, queries=QUERIES + MORE_QUERIES):
    expected = reference()
    assert [d.key for d in index.docs] == [d.key for d in expected.docs]
    for query in queries:
        for limit in (3, 10):
            assert outcome(index.search(query, limit)) == outcome(expected.search(query, limit)), (
                query
            )


def stored_is_current(obj) -> bool:
    """The stored analysis is the one the object's content and relations give today."""
    if isinstance(obj, Article):
        codes = sorted(obj.codes.values_list("code", flat=True))
        stamp = A.article_stamp(codes, obj.category)
        item = (A.article_fields(obj, codes, obj.category), A.article_phrases(obj), stamp)
    else:
        item = (A.code_fields(obj, obj.category), A.code_phrases(obj), A.code_stamp(obj.category))
    return A.blobs([item])[0] == bytes(obj.search_terms)


@pytest.fixture
def no_tokenising(monkeypatch):
    """Fail if anything is tokenised (the index must be built from the stored analyses)."""

    def refuse(*args, **kwargs):
        raise AssertionError("tokenised while building the index")

    monkeypatch.setattr(A, "analyse", refuse)


def test_the_index_ranks_exactly_like_the_reference(content):
    assert_same_as_reference(search.get_index())


def test_also_with_more_content_drafts_odd_terms_and_shared_phrases(content):
    helpers.grow(articles=30, codes=20)
    helpers.article(summary_en="Unicorn " + "z" * 300, keywords_en="unicorn\n" + "q" * 250)
    helpers.article(title_zh="测试文章 7", status=Article.Status.DRAFT)
    category = Category.objects.get(key="terminal")
    Category.objects.filter(pk=category.pk).update(is_decline=False)  # boosts codes down
    search.bump_version()
    assert_same_as_reference(search.get_index())


def test_building_does_not_tokenise_and_takes_six_queries(
    content, no_tokenising, django_assert_num_queries
):
    with django_assert_num_queries(6):  # … and the synonym groups
        index = search.load_index()
    assert len(index.docs) == ResponseCode.objects.count() + Article.objects.published().count()


def test_every_loaded_article_and_code_has_its_current_analysis(content):
    for obj in [*Article.objects.all(), *ResponseCode.objects.all()]:
        assert stored_is_current(obj), obj


def test_saving_stores_the_analysis_and_status_changes_keep_it(content, django_assert_num_queries):
    article = Article.objects.get(slug="wrong-pin")
    article.summary_en += " Zanzibar."
    article.save()
    article.refresh_from_db()
    assert stored_is_current(article)
    assert [h.doc.key for h in search.get_index().search("zanzibar").hits] == ["wrong-pin"]
    before = bytes(article.search_terms)
    article.status = Article.Status.DRAFT
    with django_assert_num_queries(1):  # the UPDATE, no analysis
        article.save(update_fields=["status", "updated_at"])
    article.refresh_from_db()
    assert bytes(article.search_terms) == before
    article.title_en = "Wrong PIN, twice"
    article.save(update_fields=["title_en"])
    article.refresh_from_db()
    assert stored_is_current(article)


def test_a_code_saves_its_analysis(content):
    code = ResponseCode.objects.get(code="A7")
    code.keywords_en += "\nrainbow glitch"
    code.save()
    code.refresh_from_db()
    assert stored_is_current(code)


def test_changing_an_articles_codes_on_either_side_stores_the_analysis_again(content):
    article = Article.objects.get(slug="wrong-pin")
    code = ResponseCode.objects.get(code="A7")
    article.codes.add(code)
    article.refresh_from_db()
    assert stored_is_current(article)
    code.articles.remove(article)
    article.refresh_from_db()
    assert stored_is_current(article)
    code.articles.add(article)
    code.articles.clear()
    article.refresh_from_db()
    assert stored_is_current(article)
    index = search.get_index()
    assert index.docs[[d.key for d in index.docs].index("wrong-pin")].codes == ("55",)


def test_stale_analyses_are_redone_when_building_and_stored(content):
    # Changes that bypass save() and the signals: a category renamed in bulk, codes linked in
    # bulk, analyses lost.
    Category.objects.filter(key="terminal").update(name_zh="收款机具", name_en="Till devices")
    article = Article.objects.get(slug="wrong-pin")
    Article.codes.through.objects.create(
        article=article, responsecode=ResponseCode.objects.get(code="A7")
    )
    Article.objects.filter(slug="card-care").update(search_terms=None)
    ResponseCode.objects.filter(code="51").update(search_terms=b"garbage")
    search.bump_version()
    index = search.get_index()
    assert_same_as_reference(index, QUERIES[:40] + ["till devices", "收款机具", "A7"])
    assert "A7" in index.docs[[d.key for d in index.docs].index("wrong-pin")].codes
    for obj in [*Article.objects.all(), *ResponseCode.objects.all()]:
        assert stored_is_current(obj), obj


def test_a_new_analyser_redoes_every_analysis_once(content, monkeypatch):
    monkeypatch.setattr(A, "ANALYZER_REVISION", A.ANALYZER_REVISION + 1)
    A.fingerprint.cache_clear()
    try:
        first = search.load_index()
        assert all(stored_is_current(a) for a in Article.objects.all())
        monkeypatch.setattr(A, "analyse", None)  # the second build needs no analysing at all
        second = search.load_index()
        assert outcome(second.search("余额不足")) == outcome(first.search("余额不足"))
    finally:
        monkeypatch.undo()
        A.fingerprint.cache_clear()


def test_the_loader_analyses_new_rows_and_those_of_a_renamed_category(tmp_path):
    directory = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, directory)
    load_content(directory)
    categories = json.loads((directory / "categories.json").read_text("utf-8"))
    terminal = next(c for c in categories if c["key"] == "terminal")
    terminal["name"]["en"] = "Till devices"
    (directory / "categories.json").write_text(json.dumps(categories, ensure_ascii=False))
    load_content(directory)
    for obj in [*Article.objects.all(), *ResponseCode.objects.all()]:
        assert stored_is_current(obj), obj


def test_the_migration_analyses_existing_rows(content):
    Article.objects.update(search_terms=None)
    ResponseCode.objects.update(search_terms=None)
    SearchTerm.objects.all().delete()
    migration = importlib.import_module("knowledge.migrations.0004_stored_search_terms")
    migration.analyse_existing(apps, None)
    for obj in [*Article.objects.all(), *ResponseCode.objects.all()]:
        assert stored_is_current(obj), obj


def test_the_benchmark_generator_stores_analyses_for_its_articles(content, monkeypatch):
    from bench import generate

    generate.build_articles(Article, count=120)
    monkeypatch.setattr(A, "analyse", None)  # every stored analysis must be current
    search.bump_version()
    index = search.get_index()
    assert len(index.docs) == ResponseCode.objects.count() + 120
    assert index.search("variant 3").hits[0].doc.key.endswith("-v00003")


def test_encoding_round_trip_drops_terms_no_query_can_match():
    long = "k" * (A.MAX_TERM_CHARS + 1)
    analysis = A.Analysis(
        {"card": 3.3, long: 1.0, **{f"w{i}": 0.1 * i for i in range(300)}},
        42.5,
        [("card", 1.0, ("card",)), (long, 1.0, (long,)), ("余额不足", 0.8, ("余额不足", "余额"))],
    )
    ids = {t: n for n, t in enumerate(sorted(A.terms_of(analysis)), start=1)}
    assert long not in ids
    decoded = A.decode(A.encode(analysis, b"12345678", ids))
    assert decoded.stamp == b"12345678" and decoded.length == 42.5
    words = {n: t for t, n in ids.items()}
    stored = {
        words[i]: decoded.palette[c] for i, c in zip(decoded.ids.tolist(), decoded.codes.tolist())
    }
    assert stored == {t: f for t, f in analysis.tf.items() if t != long}
    assert decoded.phrase_keys == ["card", "余额不足"]
    assert decoded.phrase_weights.tolist() == [1.0, 0.8]
    assert [words[i] for i in decoded.phrase_ids.tolist()] == ["card", "余额不足", "余额"]
    assert A.decode(None) is None and A.decode(b"not an analysis") is None


def test_the_vocabulary_is_shared_and_only_grows(content):
    before = SearchTerm.objects.count()
    ids = A.term_ids(["余额不足", "zanzibar"])
    assert A.term_ids(["zanzibar"]) == {"zanzibar": ids["zanzibar"]}
    assert SearchTerm.objects.count() == before + 1  # 余额不足 was known already


def test_models_do_not_import_the_search_package():
    """No import cycle models ↔ search: saving stores the analysis through knowledge.signals."""
    import ast
    from pathlib import Path

    from knowledge import models

    tree = ast.parse(Path(models.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not [name for name in imported if name and name.startswith("knowledge.search")]
