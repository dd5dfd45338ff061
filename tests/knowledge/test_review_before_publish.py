"""Review before publish: editors without "knowledge.publish_article" submit changes for review;
a second editor approves (the public page changes) or sends them back with a comment (the author
reads it); lead editors and superusers publish directly."""

import pytest
from django.test import Client
from django.urls import reverse

from diagnosis.core import permissions
from diagnosis.models import AuditEvent
from knowledge import publishing
from knowledge.models import Article, ArticleChange
from tests import factories
from tests.knowledge.helpers import article
from tests.knowledge.test_admin import article_form

pytestmark = pytest.mark.django_db

CHANGES = "/admin/knowledge/article/changes/"


def signed_in(user):
    client = Client()
    factories.sign_in(client, user)
    return client


def public_title(slug, lang=""):
    body = Client().get(f"{lang}/articles/{slug}/").content.decode()
    return body


def review_url(change):
    return reverse("admin:knowledge_article_change_review", args=[change.pk])


@pytest.fixture
def writer(db):
    return factories.editor(username="writer")


@pytest.fixture
def reviewer(db):
    return factories.editor(username="reviewer")


@pytest.fixture
def published(content):
    return Article.objects.get(slug="wrong-pin")


def submit_title(client, item, title_en, **more):
    return client.post(
        f"/admin/knowledge/article/{item.pk}/change/",
        article_form(item, title_en=title_en, review_by=item.review_by.isoformat(), **more),
    )


def test_the_permission_is_for_lead_editors_and_superusers(writer):
    lead, admin = factories.lead_editor(), factories.user(is_staff=True, is_superuser=True)
    assert not permissions.can_publish_articles(writer)
    assert permissions.can_publish_articles(lead) and permissions.can_publish_articles(admin)
    # A group can be given it too ("Lead editors").
    from django.contrib.auth.models import Group, Permission

    leads = Group.objects.create(name="Lead editors")
    leads.permissions.add(Permission.objects.get(codename="publish_article"))
    writer.groups.add(leads)
    writer = type(writer).objects.get(pk=writer.pk)
    assert permissions.can_publish_articles(writer)


def test_an_editor_cannot_publish_with_the_action_or_the_status_field(content, writer):
    client = signed_in(writer)
    draft = article(status=Article.Status.DRAFT)
    response = client.post(
        "/admin/knowledge/article/", {"action": "publish", "_selected_action": [draft.pk]}
    )
    assert response.status_code in (200, 302)
    draft.refresh_from_db()
    assert not draft.is_published
    page = client.get("/admin/knowledge/article/").content.decode()
    assert 'value="publish"' not in page and 'value="submit_for_review"' in page
    # The status field is not on the form; a forged value is ignored.
    form = client.get(f"/admin/knowledge/article/{draft.pk}/change/").content.decode()
    assert 'name="status"' not in form and 'name="_submit_review"' in form
    response = client.post(
        f"/admin/knowledge/article/{draft.pk}/change/", article_form(draft, status="published")
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert not draft.is_published
    assert Client().get(f"/articles/{draft.slug}/").status_code == 404


def test_a_draft_is_submitted_and_published_on_approval(content, writer, reviewer):
    draft = article(status=Article.Status.DRAFT)
    data = article_form(draft, title_en="Ready to go", _submit_review="1")
    assert (
        signed_in(writer).post(f"/admin/knowledge/article/{draft.pk}/change/", data).status_code
        == 302
    )
    draft.refresh_from_db()
    assert not draft.is_published and draft.title_en == "Ready to go"  # a draft saves freely
    change = ArticleChange.objects.get(article=draft)
    assert change.is_pending and change.proposed["status"] == "published"
    assert Client().get(f"/en/articles/{draft.slug}/").status_code == 404
    signed_in(reviewer).post(review_url(change), {"decision": "approve"})
    draft.refresh_from_db()
    assert draft.is_published
    assert "Ready to go" in Client().get(f"/en/articles/{draft.slug}/").content.decode()


def test_a_published_article_changes_only_once_a_second_editor_approves(
    published, writer, reviewer
):
    original = published.title_en
    before = Client().get(f"/en/articles/{published.slug}/").content.decode()  # cached now
    assert original in before
    revisions = published.revisions.count()
    response = submit_title(signed_in(writer), published, "Wrong PIN zebrafish", owner=writer.pk)
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.title_en == original and published.revisions.count() == revisions
    assert published.owner == writer  # not public: the owner changes at once
    page = Client().get(f"/en/articles/{published.slug}/").content.decode()
    assert "Wrong PIN zebrafish" not in page and original in page
    change = ArticleChange.objects.get(article=published)
    assert change.changed_fields == ["title_en"] and change.author == writer

    # The list shows it; the reviewer reads the published text beside the proposal.
    reviewer_client = signed_in(reviewer)
    listing = reviewer_client.get(CHANGES).content.decode()
    assert review_url(change) in listing
    body = reviewer_client.get(review_url(change)).content.decode()
    assert "<ins>zebrafish</ins>" in body and 'class="revision-diff"' in body
    assert 'value="approve"' in body

    response = reviewer_client.post(review_url(change), {"decision": "approve"})
    assert response.status_code == 302
    change.refresh_from_db()
    published.refresh_from_db()
    assert change.state == ArticleChange.State.APPROVED and change.reviewer == reviewer
    assert published.title_en == "Wrong PIN zebrafish"
    assert change.revision == published.revisions.first()
    assert change.revision.changed_fields == ["title_en"] and change.revision.author == writer
    # The page cache follows, like for any edit; so does the search.
    assert "Wrong PIN zebrafish" in Client().get(f"/en/articles/{published.slug}/").content.decode()
    from knowledge.selectors import article_search

    assert article_search(query="zebrafish", lang="en").results[0].key == published.slug
    actions = list(
        AuditEvent.objects.filter(object_id=str(published.pk), action__startswith="article.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["article.submit", "article.revision", "article.approve"]


def test_an_author_cannot_approve_their_own_change(published, writer):
    lead = factories.lead_editor()
    for author in (writer, lead):
        change = publishing.article_change_submit(
            article=published,
            proposed={"title_en": f"By {author.username}"},
            author=author,
        )
        client = signed_in(author)
        body = client.get(review_url(change)).content.decode()
        assert 'value="approve"' not in body and "不能自己批准" in body
        assert client.post(review_url(change), {"decision": "approve"}).status_code == 403
        assert client.post(review_url(change), {"comment": "ok"}).status_code == 403
        change.refresh_from_db()
        assert change.is_pending
    published.refresh_from_db()
    assert not published.title_en.startswith("By ")


def test_send_back_keeps_the_page_and_shows_the_comment_to_the_author(published, writer, reviewer):
    original = published.title_en
    submit_title(signed_in(writer), published, "Worse title")
    change = ArticleChange.objects.get(article=published)
    reviewer_client = signed_in(reviewer)
    # A comment is required; the form keeps what was typed otherwise.
    response = reviewer_client.post(review_url(change), {"decision": "send_back", "comment": ""})
    assert response.status_code == 200 and "写明原因" in response.content.decode()
    typed = "请改回原来的标题，示例卡号 6222 0212 3456 7890 123 要删掉"
    response = reviewer_client.post(review_url(change), {"decision": "send_back", "comment": typed})
    assert response.status_code == 302
    change.refresh_from_db()
    published.refresh_from_db()
    assert change.state == ArticleChange.State.SENT_BACK and published.title_en == original
    assert "6222 0212 3456 7890 123" not in change.comment
    assert "6222021234567890123" not in change.comment and "请改回原来的标题" in change.comment
    assert original in Client().get(f"/en/articles/{published.slug}/").content.decode()
    event = AuditEvent.objects.get(action="article.send_back")
    assert "请改回" not in str(event.details)  # the comment's text stays out of the audit trail

    author = signed_in(writer)
    listing = author.get(CHANGES).content.decode()
    assert "请改回原来的标题" in listing and "7890 123" not in listing
    form = author.get(f"/admin/knowledge/article/{published.pk}/change/").content.decode()
    assert "请改回原来的标题" in form
    # Sent back: nobody can approve it any more.
    assert reviewer_client.post(review_url(change), {"decision": "approve"}).status_code == 403


def test_full_width_card_numbers_in_the_comment_are_masked(published, writer, reviewer):
    change = publishing.article_change_submit(
        article=published, proposed={"title_zh": "新标题"}, author=writer
    )
    publishing.article_change_send_back(
        change=change, reviewer=reviewer, comment="卡号 ６２２２０２１２３４５６７８９０１２３"
    )
    change.refresh_from_db()
    assert "７８９０１" not in change.comment and "34567890" not in change.comment


@pytest.mark.parametrize("who", ["lead", "superuser"])
def test_lead_editors_and_superusers_publish_directly(published, who):
    user = (
        factories.lead_editor()
        if who == "lead"
        else factories.user(is_staff=True, is_superuser=True)
    )
    response = submit_title(signed_in(user), published, "Published at once")
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.title_en == "Published at once"
    assert not ArticleChange.objects.exists()
    assert "Published at once" in Client().get(f"/en/articles/{published.slug}/").content.decode()
    draft = article(status=Article.Status.DRAFT)
    signed_in(user).post(
        "/admin/knowledge/article/", {"action": "publish", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.is_published


def test_restoring_a_revision_is_a_proposal_for_editors(published, writer, reviewer):
    lead = factories.lead_editor()
    original = published.title_en
    submit_title(signed_in(lead), published, "Edited by the lead")
    first = published.revisions.last()
    url = reverse("admin:knowledge_article_revision_restore", args=[published.pk, first.pk])
    assert signed_in(writer).post(url).status_code == 302
    published.refresh_from_db()
    assert published.title_en == "Edited by the lead"
    change = ArticleChange.objects.get(article=published)
    assert change.proposed["title_en"] == original
    signed_in(reviewer).post(review_url(change), {"decision": "approve"})
    published.refresh_from_db()
    assert published.title_en == original


def test_the_pending_list_is_oldest_first_with_constant_queries(
    content, writer, reviewer, django_assert_max_num_queries
):
    def add(n):
        for _ in range(n):
            item = article()
            publishing.article_change_submit(
                article=item, proposed={"title_en": item.title_en + " v2"}, author=writer
            )

    add(2)
    client = signed_in(reviewer)
    client.get(CHANGES)
    with django_assert_max_num_queries(12) as few:
        client.get(CHANGES)
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.get(CHANGES).content.decode()
    urls = [review_url(c) for c in ArticleChange.objects.order_by("submitted_at", "pk")]
    positions = [body.index(url) for url in urls]
    assert positions == sorted(positions)
    # Linked from the article list, with the count.
    listing = client.get("/admin/knowledge/article/").content.decode()
    assert CHANGES in listing and "（12）" in listing


def test_the_review_page_is_for_editors_only(published, writer, client):
    change = publishing.article_change_submit(
        article=published, proposed={"title_en": "x"}, author=writer
    )
    factories.sign_in(client, factories.agent(is_staff=True))
    assert client.get(review_url(change)).status_code == 403
    assert client.get(CHANGES).status_code == 403
    assert client.post(review_url(change), {"decision": "approve"}).status_code == 403
    change.refresh_from_db()
    assert change.is_pending


def test_the_review_pages_speak_english_too(published, writer, reviewer):
    change = publishing.article_change_submit(
        article=published, proposed={"title_en": "Other"}, author=writer
    )
    client = signed_in(reviewer)
    body = client.get("/en" + review_url(change)).content.decode()
    assert "Approve and publish" in body and "Send back to the author" in body
    listing = client.get("/en" + CHANGES).content.decode()
    assert "Changes waiting for review" in listing
    assert (
        "Changes waiting for review (1)"
        in client.get("/en/admin/knowledge/article/").content.decode()
    )


def test_a_new_article_can_go_to_review_from_the_add_form(content, writer):
    from knowledge.models import Category

    data = {
        "slug": "pin-pad-review",
        "category": Category.objects.get(key="pin").pk,
        "status": "published",  # not on the form for this editor: ignored
        "title_zh": "密码键盘",
        "title_en": "PIN pad",
        "summary_zh": "摘要",
        "summary_en": "Summary",
        "votes-TOTAL_FORMS": "0",
        "votes-INITIAL_FORMS": "0",
        "votes-MIN_NUM_FORMS": "0",
        "votes-MAX_NUM_FORMS": "1000",
        "_submit_review": "1",
    }
    response = signed_in(writer).post("/admin/knowledge/article/add/", data, follow=True)
    created = Article.objects.get(slug="pin-pad-review")
    assert not created.is_published
    assert "另一位编辑批准后才会发布" in response.content.decode()
    change = ArticleChange.objects.get(article=created)
    assert change.changed_fields == ["status"] and change.proposed["status"] == "published"


def test_an_unchanged_published_article_submits_nothing(published, writer):
    response = signed_in(writer).post(
        f"/admin/knowledge/article/{published.pk}/change/",
        article_form(published, review_by=published.review_by.isoformat()),
        follow=True,
    )
    assert "没有改动，没有提交" in response.content.decode()
    assert not ArticleChange.objects.exists()


def test_the_review_page_reads_a_constant_number_of_rows(
    published, writer, reviewer, django_assert_max_num_queries
):
    small = publishing.article_change_submit(
        article=published, proposed={"title_en": "One field"}, author=writer
    )
    everything = {
        key: f"{value} v2" for key, value in small.base.items() if key.endswith(("_zh", "_en"))
    }
    large = publishing.article_change_submit(article=published, proposed=everything, author=writer)
    assert len(large.changed_fields) > 10
    client = signed_in(reviewer)
    client.get(review_url(small))
    with django_assert_max_num_queries(12) as few:
        client.get(review_url(small))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(review_url(large)).status_code == 200


def test_the_author_is_told_by_mail_in_their_language(published, writer, reviewer, settings):
    """Sent back: the author gets the comment (masked) and a link, in their own language;
    approved: a second mail says it is published. Delivered by the task, not the request."""
    from diagnosis.models import OutgoingMail

    writer.email, writer.language = "writer@example.com", "en"
    writer.save(update_fields=["email", "language"])
    change = publishing.article_change_submit(
        article=published, proposed={"title_en": "Shorter"}, author=writer
    )
    publishing.article_change_send_back(
        change=change, reviewer=reviewer, comment="Too short; card 6222 0212 3456 7890 123"
    )
    mail = OutgoingMail.objects.get(kind="article_change_sent_back")
    assert mail.recipient == writer and mail.to == "writer@example.com"
    assert published.title_en in mail.subject and "sent back" in mail.subject.lower()
    assert "Too short" in mail.body and review_url(change) in mail.body
    assert "6222 0212 3456 7890 123" not in mail.body and "34567890" not in mail.body
    again = publishing.article_change_submit(
        article=published, proposed={"title_en": "A clearer title"}, author=writer
    )
    publishing.article_change_approve(change=again, reviewer=reviewer)
    approved = OutgoingMail.objects.get(kind="article_change_approved")
    assert "published" in approved.subject.lower() and "A clearer title" in approved.subject
    writer.language = "zh-hans"
    writer.save(update_fields=["language"])
    third = publishing.article_change_submit(
        article=published, proposed={"title_zh": "新的标题"}, author=writer
    )
    publishing.article_change_send_back(change=third, reviewer=reviewer, comment="不对")
    chinese = OutgoingMail.objects.filter(kind="article_change_sent_back").latest("pk")
    assert "退回" in chinese.subject and "不对" in chinese.body


def test_the_author_withdraws_a_pending_change(published, writer, reviewer):
    original = published.title_en
    submit_title(signed_in(writer), published, "Changed my mind")
    change = ArticleChange.objects.get(article=published)
    # Somebody else cannot withdraw it; the author can, from the review page.
    assert signed_in(reviewer).post(review_url(change), {"decision": "withdraw"}).status_code == 403
    author = signed_in(writer)
    page = author.get(review_url(change)).content.decode()
    assert 'value="withdraw"' in page
    response = author.post(review_url(change), {"decision": "withdraw"})
    assert response.status_code == 302
    change.refresh_from_db()
    published.refresh_from_db()
    assert change.state == ArticleChange.State.WITHDRAWN and published.title_en == original
    assert change not in publishing.pending_changes()
    assert AuditEvent.objects.filter(action="article.withdraw").count() == 1
    # Withdrawn: nobody can approve it, and it cannot be withdrawn twice.
    assert signed_in(reviewer).post(review_url(change), {"decision": "approve"}).status_code == 403
    assert author.post(review_url(change), {"decision": "withdraw"}).status_code == 403
    assert "Withdrawn" in author.get("/en" + review_url(change)).content.decode()
