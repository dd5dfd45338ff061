"""Content gaps (issue 19): a merchant searches for something the knowledge base lacks and
types a code nobody knows; the editor sees both on the content-gap page, adds a synonym from
there, and the same search now finds the article; the editor marks an article verified and the
public page shows when it was last checked."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from knowledge.models import Article
from tests import factories
from tests.e2e.support import check_page, login, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MISSING = "flurbo"  # a word no article uses


def test_editor_closes_a_content_gap(live_server, content, make_page):
    article = Article.objects.published().get(slug="insufficient-balance")
    # The article is past its review date: it is at the top of the editor's queue.
    Article.objects.filter(pk=article.pk).update(
        review_by=timezone.localdate() - dt.timedelta(days=2)
    )
    editor = factories.editor(username="editor-li")

    # A merchant searches for something we lack, then types a code nobody knows.
    public = make_page()
    public.goto(live_server.url + "/")
    public.get_by_role("searchbox").fill(MISSING)
    with public.expect_navigation():
        press(public, public.get_by_role("button", name="搜索"))
    expect(public.locator("ol.results")).to_have_count(0)
    check_page(public)
    public.goto(live_server.url + "/")
    public.get_by_role("searchbox").fill("Q7")
    with public.expect_navigation():
        press(public, public.get_by_role("button", name="搜索"))

    # The editor sees both on the content-gap page.
    admin = make_page()
    login(admin, live_server.url, editor, next_path="/admin/knowledge/searchqueryday/")
    assert "/admin/knowledge/searchqueryday/" in admin.url, admin.url
    searches = admin.locator("#gap-searches + table")
    expect(searches).to_contain_text(MISSING)
    expect(admin.locator("#gap-codes + table")).to_contain_text("Q7")
    # … and adds a synonym from the row: the form comes pre-filled with the search.
    row = searches.locator("tr").filter(has_text=MISSING)
    with admin.expect_navigation():
        row.get_by_role("link", name="添加同义词").click()
    phrases = admin.locator("#id_phrases")
    expect(phrases).to_have_value(MISSING)
    phrases.fill(f"{MISSING}\n余额不足")
    with admin.expect_navigation():
        admin.locator("input[name=_save]").click()
    expect(admin.locator(".messagelist")).to_contain_text("成功")

    # The same search now finds the article.
    public.goto(f"{live_server.url}/search/?q={MISSING}")
    expect(public.locator("ol.results").first).to_contain_text(article.title_zh)
    check_page(public)

    # The editor marks the article verified in the review queue …
    admin.goto(live_server.url + "/admin/knowledge/article/review-queue/")
    queue_row = admin.locator("tbody tr").filter(has_text=article.title_zh)
    expect(queue_row).to_contain_text("已过期")
    with admin.expect_navigation():
        queue_row.get_by_role("button", name="已核实").click()
    expect(admin.locator(".messagelist")).to_contain_text("已标记为核实")

    # … and the public page shows the date, in both languages.
    today = timezone.localdate().strftime("%Y-%m-%d")
    public.goto(f"{live_server.url}/articles/{article.slug}/")
    expect(public.locator(".last-checked")).to_have_text(f"最近核实：{today}")
    check_page(public)
    public.goto(f"{live_server.url}/en/articles/{article.slug}/")
    expect(public.locator(".last-checked")).to_have_text(f"Last checked {today}")
