"""What merchants could not find: the privacy-safe, batched gap logging and the editors'
content-gap page (knowledge/gaps/)."""

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from knowledge.gaps import services as gaps
from knowledge.models import (
    Article,
    ArticleVote,
    SearchQueryDay,
    UnknownCodeDay,
    WizardPathDay,
)
from tests import factories
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db

GAP_URL = "/admin/knowledge/searchqueryday/"
NOTHING = "zzqx flurbo"  # finds nothing in the knowledge base


def searches():
    gaps.flush()
    return {
        (row.lang, row.query): (row.searches, row.empty, row.opened, row.results)
        for row in SearchQueryDay.objects.all()
    }


def codes():
    gaps.flush()
    return {(row.code, row.source): row.count for row in UnknownCodeDay.objects.all()}


# --- logging -----------------------------------------------------------------------------------
def test_a_search_is_counted_with_its_result_count(client, content):
    client.get("/search/", {"q": f"  {NOTHING.upper()} "})
    client.get("/search/", {"q": NOTHING})
    client.get("/en/search/", {"q": "insufficient funds"})
    client.get("/en/search/", {"q": "insufficient funds", "page": "2"})  # same search, page 2
    client.get("/search/", {"q": "zzq"}, HTTP_HX_REQUEST="true")  # live results while typing
    found = searches()
    assert found[("zh", NOTHING)] == (2, 2, 0, 0)
    total, empty, opened, results = found[("en", "insufficient funds")]
    assert (total, empty, opened) == (1, 0, 0) and results > 0
    assert SearchQueryDay.objects.get(query=NOTHING).day == timezone.localdate()
    assert ("zh", "zzq") not in found


def test_opening_a_result_is_counted_and_lands_on_the_result(client, content):
    page = client.get("/search/", {"q": "余额不足"}).content.decode()
    link = re.search(r'class="result-title" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert link.startswith("/search/open/?q=")
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] in ("/codes/51/", "/articles/insufficient-balance/")
    assert searches()[("zh", "余额不足")][2] == 1


@pytest.mark.parametrize(
    "target", ["", "x:51", "a:../../admin", "c:511", "a:" + "s" * 81, "https://evil.example"]
)
def test_the_open_link_is_no_open_redirect(client, content, target):
    response = client.get("/search/open/", {"q": "x", "to": target})
    assert response.status_code == 302 and response["Location"] == "/search/"
    assert searches() == {}


def test_nothing_is_written_per_request_only_per_batch(client, content, settings):
    settings.KNOWLEDGE_GAP_FLUSH_SECONDS = 30
    for _ in range(5):
        client.get("/search/", {"q": NOTHING})
        client.get("/codes/Q7/")
    assert SearchQueryDay.objects.count() == 0 and UnknownCodeDay.objects.count() == 0
    assert gaps.flush() == 2  # one row each, however many searches
    assert searches()[("zh", NOTHING)][:2] == (5, 5)
    assert codes() == {("Q7", "code_page"): 5}


def test_a_search_request_writes_nothing_until_the_batch_is_full(client, content, settings):
    settings.KNOWLEDGE_GAP_FLUSH_SECONDS = 30
    client.get("/search/", {"q": NOTHING})
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get("/search/", {"q": NOTHING})
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []


def test_a_full_batch_is_written_by_the_request_that_fills_it(client, content, settings):
    settings.KNOWLEDGE_GAP_BATCH = 3
    client.get("/search/", {"q": NOTHING})
    client.get("/codes/Q7/")
    assert SearchQueryDay.objects.count() == 0
    client.get("/search/", {"q": "another"})
    assert SearchQueryDay.objects.count() == 2 and UnknownCodeDay.objects.count() == 1


@pytest.mark.parametrize(
    "typed",
    [
        "6222 0212 3456 7890 123",
        "６２２２０２１２３４５６７８９０１２３",
        "6222.0212.3456.7890.123",
    ],
)
def test_no_card_number_reaches_the_search_log(client, content, typed):
    client.get("/search/", {"q": f"卡号 {typed} 被拒"}, follow=True)
    gaps.search_record(query=f"card {typed}", lang="en", results=0)  # the service alone, too
    gaps.flush()
    stored = " ".join(row.query for row in SearchQueryDay.objects.all())
    assert stored, "the searches were logged"
    assert not re.search(r"\d{7,}", stored.replace(" ", "").replace(".", ""))
    assert "622202" in stored  # masked to first 6 + last 4, not dropped


def test_unknown_codes_from_the_code_page_search_box_and_wizard(client, tmp_path):
    seed_small(tmp_path)
    client.get("/codes/Q7/")
    client.get("/codes/q7/")
    client.get("/codes/51/")  # known
    client.get("/codes/not-a-code/")  # not a code at all
    client.get("/search/", {"q": "Z9"})
    client.get(tokens_url([], code="Y8"))
    client.get(tokens_url([], code="51"))  # known
    assert codes() == {("Q7", "code_page"): 2, ("Z9", "search"): 1, ("Y8", "wizard"): 1}


def test_wizard_runs_counted_per_path_with_not_solved(client, tmp_path):
    seed_small(tmp_path)

    def finish(tokens, solved):
        page = client.get(tokens_url(tokens), follow=True).content.decode()
        token = re.search(r'name="run" value="([^"]+)"', page).group(1)
        client.post("/diagnose/vote/", {"run": token, "solved": solved})
        return token

    finish(["51"], "no")
    token = finish(["no-code", "only-this", "balance"], "no")
    finish(["no-code", "only-this", "balance"], "yes")
    client.post("/diagnose/vote/", {"run": token, "solved": "yes"})  # changed her mind
    rows = {  # written with the run, not batched: the wizard writes its run anyway
        (r["path"], r["outcome"]): (r["reached"], r["not_solved"])
        for r in WizardPathDay.objects.values("path", "outcome", "reached", "not_solved")
    }
    assert rows == {("51", "o-funds"): (1, 1), ("no-code.only-this.balance", "o-funds"): (2, 0)}


# --- the content-gap page -------------------------------------------------------------------
def _seed_gaps(day, n=1):
    for i in range(n):
        SearchQueryDay.objects.create(
            day=day, lang="zh", query=f"没找到 {i}", searches=3 + i, empty=3 + i
        )
        SearchQueryDay.objects.create(day=day, lang="en", query=f"found {i}", searches=5, opened=2)
        UnknownCodeDay.objects.create(day=day, code=f"Q{i % 10}", source="code_page", count=2)
        WizardPathDay.objects.create(
            day=day,
            outcome="o-funds",
            path=f"no-code.only-this.balance{i}",
            reached=4,
            not_solved=3,
        )


@pytest.fixture
def editor_client(client):
    factories.sign_in(client, factories.editor())
    return client


def test_gap_page_shows_each_section_with_prefilled_links(editor_client, tmp_path):
    seed_small(tmp_path)
    today = timezone.localdate()
    _seed_gaps(today)
    WizardPathDay.objects.create(
        day=today, outcome="o-card", path="no-code.only-this.expired", reached=2, not_solved=2
    )
    article = Article.objects.first()
    ArticleVote.objects.create(article=article, voter_key="a", helpful=False, comment="没说清楚")
    page = editor_client.get(GAP_URL).content.decode()
    assert "没找到 0" in page and "found 0" not in page  # opened searches are no gap
    assert "/admin/knowledge/article/add/?title_zh=%E6%B2%A1%E6%89%BE%E5%88%B0+0" in page
    assert "/admin/knowledge/responsecode/add/?code=Q0" in page
    assert (
        "/admin/knowledge/synonymgroup/add/?phrases=%E6%B2%A1%E6%89%BE%E5%88%B0+0&amp;lang=zh"
        in page
    )
    assert "没说清楚" in page and f"/admin/knowledge/article/{article.pk}/change/" in page
    # Highest "not solved" share first: o-card (100%) before o-funds (75%).
    assert page.index("no-code.only-this.expired") < page.index("no-code.only-this.balance0")
    english = editor_client.get("/en" + GAP_URL).content.decode()
    assert "Content gaps" in english and "Unknown response codes" in english


def test_gap_page_date_range_filters_and_keeps_what_was_typed(editor_client):
    _seed_gaps(dt.date(2026, 1, 10))
    page = editor_client.get(GAP_URL, {"start": "2026-01-01", "end": "2026-01-31"})
    assert "没找到 0" in page.content.decode()
    page = editor_client.get(GAP_URL, {"start": "2026-02-01", "end": "2026-02-28"})
    assert "没找到 0" not in page.content.decode()
    page = editor_client.get(GAP_URL, {"start": "2026-03-01", "end": "2026-02-01"})
    body = page.content.decode()
    assert page.status_code == 200 and 'value="2026-03-01"' in body
    assert "结束日期不能早于开始日期" in body


def test_gap_csv_export_is_guarded_and_masked(editor_client):
    today = timezone.localdate()
    SearchQueryDay.objects.create(
        day=today, lang="zh", query="=cmd|' /C calc'!A0", searches=1, empty=1
    )
    gaps.search_record(query="卡号 6222 0212 3456 7890 123", lang="zh", results=0)
    response = editor_client.get(GAP_URL + "export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "section"
    queries = [row[2] for row in rows if row[0] == "search"]
    assert "'=cmd|' /C calc'!A0" in queries
    assert not re.search(r"\d{7,}", text.replace(" ", ""))


def test_gap_page_query_count_does_not_grow_with_data(editor_client, django_assert_max_num_queries):
    from django.core.cache import cache

    today = timezone.localdate()
    _seed_gaps(today, n=2)
    editor_client.get(GAP_URL)
    cache.clear()  # the report itself, not its cached copy
    with django_assert_max_num_queries(20) as small:
        editor_client.get(GAP_URL)
    _seed_gaps(today, n=40)
    _seed_gaps(today - dt.timedelta(days=3), n=40)
    cache.clear()
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        assert editor_client.get(GAP_URL).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    # Cached: none of the report's aggregates is run again.
    with django_assert_max_num_queries(len(small.captured_queries) - 5) as cached:
        assert editor_client.get(GAP_URL).status_code == 200
    assert not any("knowledge_searchqueryday" in q["sql"] for q in cached.captured_queries)


def test_cached_report_is_replaced_by_new_counts_votes_and_content_edits(editor_client, tmp_path):
    """The report is cached per range, yet a batch of searches, a wizard run, a vote and a new
    code (no longer unknown) each show on the next visit."""
    from diagnosis.models import WizardVersion
    from diagnosis.wizard import runs
    from diagnosis.wizard.snapshot import live_tree
    from knowledge.models import Category, ResponseCode

    seed_small(tmp_path)
    first = editor_client.get(GAP_URL).content.decode()
    assert NOTHING not in first and "QZ" not in first
    assert editor_client.get(GAP_URL).content.decode().count("统计于") == 1
    gaps.search_record(query=NOTHING, lang="zh", results=0)
    gaps.unknown_code_record(code="QZ", source="code_page")
    page = editor_client.get(GAP_URL).content.decode()  # the page flushes its own process first
    assert NOTHING in page and "/admin/knowledge/responsecode/add/?code=QZ" in page
    article = Article.objects.first()
    gaps_before = gaps.version()
    ArticleVote.objects.create(article=article, voter_key="k", helpful=False, comment="步骤太长")
    assert gaps.version() != gaps_before
    assert "步骤太长" in editor_client.get(GAP_URL).content.decode()
    version = WizardVersion.objects.order_by("-number").first()
    outcome = next(iter(live_tree().outcomes))
    run = runs.run_record(
        version_pk=version.pk,
        path="no-code.cache-check",
        code="",
        outcome=outcome,
        bank_lead=False,
    )
    runs.run_vote(run=run, solved=False)
    assert "no-code.cache-check" in editor_client.get(GAP_URL).content.decode()
    ResponseCode.objects.create(
        code="QZ",
        category=Category.objects.first(),
        who_acts="cardholder",
        retry="after_fix",
        meaning_zh="测试",
        meaning_en="test",
    )
    assert (
        "/admin/knowledge/responsecode/add/?code=QZ"
        not in editor_client.get(GAP_URL).content.decode()
    )


def test_gap_page_is_for_editors_only(client, merchant_user, agent):
    assert client.get(GAP_URL).status_code == 302
    factories.sign_in(client, agent)
    assert client.get(GAP_URL).status_code in (302, 403)
    assert client.get(GAP_URL + "export.csv").status_code in (302, 403)
