"""Editing: only knowledge editors and superusers; revisions on every save; restore; preview."""

import re

import pytest
from django.urls import reverse

from knowledge.models import Announcement, Article, ArticleRevision, Category, ResponseCode
from tests import factories
from tests.knowledge.helpers import article

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(db):
    """A lead editor: these tests are about editing itself. Editors who must have their changes
    reviewed first: tests/knowledge/test_review_before_publish.py."""
    return factories.lead_editor()


def article_form(item, **changes):
    """The admin change form's POST data for an article, with changes."""
    data = {
        "slug": item.slug,
        "category": item.category_id,
        "status": item.status,
        "codes": [c.pk for c in item.codes.all()],
        "related": [a.pk for a in item.related.all()],
        "votes-TOTAL_FORMS": "0",
        "votes-INITIAL_FORMS": "0",
        "votes-MIN_NUM_FORMS": "0",
        "votes-MAX_NUM_FORMS": "1000",
    }
    for field in Article._meta.get_fields():
        name = getattr(field, "name", "")
        if name.endswith(("_zh", "_en")):
            data[name] = getattr(item, name)
    data.update(changes)
    return data


def editing_urls(item):
    code = ResponseCode.objects.get(code="51")
    revision = item.revisions.first()
    return [
        "/admin/knowledge/",
        "/admin/knowledge/article/",
        "/admin/knowledge/article/add/",
        f"/admin/knowledge/article/{item.pk}/change/",
        reverse("admin:knowledge_article_revisions", args=[item.pk]),
        reverse("admin:knowledge_article_revision_restore", args=[item.pk, revision.pk]),
        f"/admin/knowledge/responsecode/{code.pk}/change/",
        "/admin/knowledge/category/",
        "/admin/knowledge/announcement/add/",
        "/admin/knowledge/articlerevision/",
        "/admin/knowledge/articlevote/",
    ]


@pytest.mark.parametrize("who", [None, "merchant_user", "agent"])
def test_nobody_else_reaches_editing(client, content, request, who):
    if who:
        factories.sign_in(client, request.getfixturevalue(who))
    item = Article.objects.get(slug="wrong-pin")
    for url in editing_urls(item):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    revision = item.revisions.first()
    restore = reverse("admin:knowledge_article_revision_restore", args=[item.pk, revision.pk])
    assert client.post(restore).status_code == 302
    assert item.revisions.count() == 1


def test_staff_without_the_editor_role_is_refused(client, content):
    staff_agent = factories.agent(is_staff=True)
    factories.sign_in(client, staff_agent)
    item = Article.objects.get(slug="wrong-pin")
    for url in editing_urls(item)[1:]:
        assert client.get(url).status_code == 403, url
    revision = item.revisions.first()
    restore = reverse("admin:knowledge_article_revision_restore", args=[item.pk, revision.pk])
    assert client.post(restore).status_code == 403


def test_staff_with_model_permissions_but_not_an_editor_is_refused(client, content):
    from django.contrib.auth.models import Permission

    user = factories.user(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="knowledge"))
    factories.sign_in(client, user)
    assert client.get("/admin/knowledge/article/").status_code == 403


@pytest.mark.parametrize("who", ["editor", "superuser"])
def test_editors_and_superusers_can_edit_everything(client, content, request, who):
    factories.sign_in(client, request.getfixturevalue(who))
    item = Article.objects.get(slug="wrong-pin")
    for url in editing_urls(item):
        assert client.get(url).status_code == 200, url


def test_article_list_is_pleasant(client, content, editor, django_assert_max_num_queries):
    factories.sign_in(client, editor)
    response = client.get("/admin/knowledge/article/", {"q": "密码", "status__exact": "published"})
    body = response.content.decode()
    assert "wrong-pin" in body
    assert 'href="/articles/wrong-pin/"' in body and 'href="/en/articles/wrong-pin/"' in body
    with django_assert_max_num_queries(15):
        client.get("/admin/knowledge/article/")


def test_every_admin_save_keeps_a_revision_and_restore_brings_it_back(client, content, editor):
    factories.sign_in(client, editor)
    item = Article.objects.get(slug="wrong-pin")
    original_title = item.title_en
    url = f"/admin/knowledge/article/{item.pk}/change/"
    response = client.post(
        url,
        article_form(
            item,
            title_en="Wrong PIN – edited",
            codes=list(
                ResponseCode.objects.filter(code__in=["55", "38"]).values_list("pk", flat=True)
            ),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    item.refresh_from_db()
    assert item.title_en == "Wrong PIN – edited"
    latest = item.revisions.first()
    assert latest.author == editor
    assert "title_en" in latest.changed_fields and "codes" in latest.changed_fields
    assert latest.data["title_en"] == "Wrong PIN – edited"

    history = client.get(reverse("admin:knowledge_article_revisions", args=[item.pk]))
    body = history.content.decode()
    assert re.search(r"<ins>[^<]*edited</ins>", body)  # the side-by-side diff marks the change
    text = re.sub(r"</?(ins|del)>", "", body)
    assert "Wrong PIN – edited" in text and original_title in text
    assert editor.username in body

    first = item.revisions.last()  # the version loaded from the content files
    restore_url = reverse("admin:knowledge_article_revision_restore", args=[item.pk, first.pk])
    preview = client.get(restore_url).content.decode()
    assert "Wrong PIN – edited" in preview and original_title in preview
    assert client.post(restore_url).status_code == 302
    item.refresh_from_db()
    assert item.title_en == original_title
    assert sorted(item.codes.values_list("code", flat=True)) == first.data["codes"]
    restored = item.revisions.first()
    assert restored.author == editor and "title_en" in restored.changed_fields
    assert item.revisions.count() == 3


def test_saving_without_changes_still_records_a_revision(client, content, editor):
    factories.sign_in(client, editor)
    item = Article.objects.get(slug="wrong-pin")
    client.post(f"/admin/knowledge/article/{item.pk}/change/", article_form(item))
    assert item.revisions.count() == 2
    assert item.revisions.first().changed_fields == []


def test_admin_edit_updates_search_and_survives_the_loader(client, content, editor):
    from django.core.management import call_command

    from knowledge.selectors import article_search

    factories.sign_in(client, editor)
    item = Article.objects.get(slug="wrong-pin")
    article_search(query="x", lang="en")
    client.post(
        f"/admin/knowledge/article/{item.pk}/change/",
        article_form(item, keywords_en=item.keywords_en + "\nzebra crossing"),
    )
    assert article_search(query="zebra crossing", lang="en").results[0].key == "wrong-pin"
    call_command("load_knowledge", verbosity=0)
    assert "zebra crossing" in Article.objects.get(pk=item.pk).keywords_en


def test_new_article_from_the_admin_starts_as_a_draft_with_history(client, content, editor):
    factories.sign_in(client, editor)
    category = Category.objects.get(key="pin")
    data = {
        "slug": "pin-pad-tips",
        "category": category.pk,
        "status": "draft",
        "title_zh": "密码键盘小贴士",
        "title_en": "PIN pad tips",
        "summary_zh": "摘要",
        "summary_en": "Summary",
        "votes-TOTAL_FORMS": "0",
        "votes-INITIAL_FORMS": "0",
        "votes-MIN_NUM_FORMS": "0",
        "votes-MAX_NUM_FORMS": "1000",
    }
    assert client.post("/admin/knowledge/article/add/", data).status_code == 302
    created = Article.objects.get(slug="pin-pad-tips")
    assert not created.is_published
    assert created.revisions.get().author == editor
    client.logout()
    assert client.get("/articles/pin-pad-tips/").status_code == 404


def test_publish_action_and_delete_rules(client, content, editor):
    factories.sign_in(client, editor)
    draft = article(status=Article.Status.DRAFT)
    response = client.post(
        "/admin/knowledge/article/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.revisions.first().changed_fields == ["status"]
    # Loaded articles cannot be deleted (the loader would bring them back): unpublish instead.
    loaded = Article.objects.get(slug="wrong-pin")
    assert client.get(f"/admin/knowledge/article/{loaded.pk}/delete/").status_code == 403
    assert client.get(f"/admin/knowledge/article/{draft.pk}/delete/").status_code == 200


def test_revisions_are_read_only(client, content, editor):
    factories.sign_in(client, editor)
    revision = ArticleRevision.objects.first()
    assert client.get("/admin/knowledge/articlerevision/add/").status_code == 403
    page = client.get(f"/admin/knowledge/articlerevision/{revision.pk}/change/")
    assert page.status_code == 200
    assert 'name="data"' not in page.content.decode()


def test_announcements_and_codes_are_editable(client, content, editor):
    factories.sign_in(client, editor)
    response = client.post(
        "/admin/knowledge/announcement/add/",
        {
            "bank_role": "issuer",
            "severity": "critical",
            "starts_at_0": "2030-01-01",
            "starts_at_1": "02:00:00",
            "ends_at_0": "2030-01-01",
            "ends_at_1": "01:00:00",
            "title_zh": "维护",
            "title_en": "Maintenance",
        },
    )
    assert response.status_code == 200  # end before start: the form shows the error
    assert "结束时间必须晚于开始时间" in response.content.decode()
    assert not Announcement.objects.exists()
    code = ResponseCode.objects.get(code="51")
    page = client.get(f"/admin/knowledge/responsecode/{code.pk}/change/").content.decode()
    assert 'href="/codes/51/"' in page and "insufficient" in page.lower()
    assert client.get("/admin/knowledge/category/").status_code == 200
