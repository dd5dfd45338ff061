"""Journey 4: a knowledge editor changes an article in the admin and publishes it; the public
page shows the change at once, and another draft stays hidden from the public."""

import pytest
from playwright.sync_api import expect

from knowledge.models import Article
from tests import factories
from tests.e2e.support import check_page, login, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_TITLE = "余额不够时怎么办（编辑新版）"
NEW_SUMMARY = "编辑刚改过的摘要：先核对金额，再请顾客换卡或扫码付款。"


def test_editor_publishes_change_and_draft_stays_hidden(live_server, content, make_page):
    article, other = Article.objects.published().order_by("slug")[:2]
    # Both start as drafts: `article` is the editor's work in progress, `other` stays one.
    Article.objects.filter(pk__in=[article.pk, other.pk]).update(status=Article.Status.DRAFT)
    editor = factories.lead_editor(username="editor-wang")  # publishes without review
    public = make_page()

    for slug in (article.slug, other.slug):
        response = public.goto(f"{live_server.url}/articles/{slug}/")
        assert response.status == 404
    check_page(public)  # the 404 page too

    # The editor edits the article in the admin and publishes it.
    admin = make_page()
    login(admin, live_server.url, editor, next_path="/admin/knowledge/article/")
    admin.locator("#searchbar").fill(article.slug)
    with admin.expect_navigation():
        admin.locator("#changelist-search").get_by_role("button").click()
    with admin.expect_navigation():
        press(admin, admin.locator("#result_list").get_by_role("link", name=article.title_zh))
    assert f"/admin/knowledge/article/{article.pk}/change/" in admin.url
    admin.get_by_label("中文标题").fill(NEW_TITLE)
    admin.locator("#id_summary_zh").fill(NEW_SUMMARY)
    admin.get_by_label("状态").select_option("published")
    with admin.expect_navigation():
        admin.locator("input[name=_continue]").first.click()
    expect(admin.locator(".messagelist")).to_contain_text("成功修改了")
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.title_zh == NEW_TITLE

    # The public sees the change straight away …
    response = public.goto(f"{live_server.url}/articles/{article.slug}/")
    assert response.status == 200
    expect(public.get_by_role("heading", level=1)).to_have_text(NEW_TITLE)
    expect(public.locator("p.lead").first).to_have_text(NEW_SUMMARY)
    assert public.locator(".notice-draft").count() == 0
    check_page(public)
    # … in its category and in search,
    public.goto(f"{live_server.url}{article.category.get_absolute_url()}")
    expect(public.locator("main")).to_contain_text(NEW_TITLE)
    public.goto(f"{live_server.url}/search/?q=编辑新版")
    expect(public.locator("ol.results")).to_contain_text(NEW_TITLE)

    # … while the other draft stays hidden: not found, not listed, not searchable.
    response = public.goto(f"{live_server.url}/articles/{other.slug}/")
    assert response.status == 404
    public.goto(f"{live_server.url}{other.category.get_absolute_url()}")
    expect(public.locator("main")).not_to_contain_text(other.title_zh)
    # The editor can still preview it, marked as a draft.
    admin.goto(f"{live_server.url}/articles/{other.slug}/")
    expect(admin.locator(".notice-draft")).to_contain_text("草稿预览")
    expect(admin.get_by_role("heading", level=1)).to_have_text(other.title_zh)
