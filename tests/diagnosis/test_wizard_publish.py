"""Editing the draft in the admin and publishing it: refused with a list, immutable versions."""

import pytest
from django.core.exceptions import ValidationError

from diagnosis.models import (
    WizardCodeRoute,
    WizardOption,
    WizardOutcome,
    WizardOutcomeArticle,
    WizardQuestion,
    WizardVersion,
)
from diagnosis.wizard.snapshot import PublishRefused, live_tree, publish_draft
from knowledge.models import Article
from tests import factories
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db

PUBLISH_URL = "/admin/diagnosis/wizardversion/publish/"


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


def test_publishing_an_unchanged_draft_is_refused(tree):
    with pytest.raises(PublishRefused) as refused:
        publish_draft()
    assert [p.kind for p in refused.value.problems] == ["unchanged"]


def test_publishing_a_changed_draft_makes_a_new_live_version(
    tree, editor, client, django_capture_on_commit_callbacks
):
    assert live_tree().number == 1
    WizardQuestion.objects.filter(key="q-cards").update(text_zh="别的卡现在能刷吗？")
    assert "别的卡能用吗？" in client.get(tokens_url(["no-code"])).content.decode()  # not yet
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        version = publish_draft(user=editor, note="clearer question")
    # On commit: the live tree is invalidated, and so are the cached public pages.
    assert sorted(c.__name__ for c in callbacks) == ["<lambda>", "invalidate_live"]
    assert (version.number, version.published_by, version.note) == (2, editor, "clearer question")
    assert live_tree().number == 2  # the cached live tree was invalidated on commit
    html = client.get(tokens_url(["no-code"], version=2)).content.decode()
    assert "别的卡现在能刷吗？" in html


def test_broken_draft_is_refused_with_the_list_and_live_stays(tree, client):
    WizardQuestion.objects.filter(key="q-bank").delete()  # q-terminal's "fine" now leads nowhere
    Article.objects.filter(slug="a-pin").update(status=Article.Status.DRAFT)
    with pytest.raises(PublishRefused) as refused:
        publish_draft()
    kinds = {p.kind for p in refused.value.problems}
    assert {"option_no_target", "article_unpublished", "unreachable_outcome"} <= kinds
    assert WizardVersion.objects.count() == 1
    # merchants mid-way are not stranded: the live version still has q-bank
    html = client.get(tokens_url(["no-code", "many", "fine"])).content.decode()
    assert "最近有银行通知吗？" in html


def test_version_rows_are_immutable(tree):
    version = WizardVersion.objects.get()
    version.note = "changed"
    with pytest.raises(ValidationError):
        version.save()


def test_option_model_refuses_two_targets(tree):
    option = WizardOption.objects.filter(outcome__isnull=False).first()
    option.next_question = WizardQuestion.objects.first()
    with pytest.raises(ValidationError):
        option.full_clean()
    route = WizardCodeRoute.objects.get(code="51")
    route.outcome = None
    with pytest.raises(ValidationError):
        route.full_clean()


def test_old_link_still_fitting_continues_on_the_new_version(
    tree, client, django_capture_on_commit_callbacks
):
    client.get("/diagnose/")  # version 1 is cached as the live one
    WizardOutcome.objects.filter(key="o-funds").update(title_zh="卡里钱不够")
    with django_capture_on_commit_callbacks(execute=True):
        publish_draft()
    response = client.get(tokens_url(["no-code", "only-this", "balance"], version=1), follow=True)
    html = response.content.decode()
    assert "卡里钱不够" in html
    assert "请从头开始" not in html
    assert "v=2" in response.redirect_chain[-1][0]


def test_old_link_that_no_longer_fits_restarts(tree, client, django_capture_on_commit_callbacks):
    client.get("/diagnose/")
    WizardOption.objects.filter(question__key="q-cards", key="many").update(key="several")
    with django_capture_on_commit_callbacks(execute=True):
        publish_draft()
    html = client.get(tokens_url(["no-code", "many"], version=1)).content.decode()
    assert "排查问题刚刚更新过" in html
    assert "应答码是多少？" in html


# --- the admin ---


def test_editor_edits_the_draft_in_the_admin(tree, editor, client):
    factories.sign_in(client, editor)
    for url in [
        "/admin/diagnosis/wizardquestion/",
        "/admin/diagnosis/wizardoutcome/",
        "/admin/diagnosis/wizardcoderoute/",
        "/admin/diagnosis/wizardversion/",
        f"/admin/diagnosis/wizardquestion/{WizardQuestion.objects.get(key='q-card').pk}/change/",
        f"/admin/diagnosis/wizardoutcome/{WizardOutcome.objects.get(key='o-bank').pk}/change/",
        "/admin/diagnosis/wizardquestion/add/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    changelist = client.get("/admin/diagnosis/wizardquestion/").content.decode()
    assert PUBLISH_URL in changelist and "?draft=1" in changelist


def test_editor_changes_a_question_through_the_admin_form(tree, editor, client):
    factories.sign_in(client, editor)
    question = WizardQuestion.objects.get(key="q-bank")
    options = list(question.options.order_by("position"))
    data = {
        "key": "q-bank",
        "kind": "choice",
        "position": "50",
        "text_zh": "这两天收到过银行的维护通知吗？",
        "text_en": "Any bank maintenance notice these days?",
        "help_zh": "",
        "help_en": "",
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": str(len(options)),
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "1000",
    }
    for n, option in enumerate(options):
        data |= {
            f"options-{n}-id": str(option.pk),
            f"options-{n}-question": str(question.pk),
            f"options-{n}-position": str(option.position),
            f"options-{n}-key": option.key,
            f"options-{n}-label_zh": option.label_zh,
            f"options-{n}-label_en": option.label_en,
            f"options-{n}-next_question": "",
            f"options-{n}-outcome": str(option.outcome_id),
        }
    response = client.post(f"/admin/diagnosis/wizardquestion/{question.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].errors
    question.refresh_from_db()
    assert question.text_zh == "这两天收到过银行的维护通知吗？"


def test_publish_page_lists_problems_and_refuses(tree, editor, client):
    WizardOutcomeArticle.objects.filter(outcome__key="o-data").delete()
    WizardQuestion.objects.filter(key="q-card").update(text_en="")
    factories.sign_in(client, editor)
    page = client.get(PUBLISH_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "结论 o-data 没有关联任何文章。" in html
    assert "问题 q-card 的题目缺少英文。" in html
    assert 'type="submit"' not in html.split('id="content-main"')[1]  # no publish button
    response = client.post(PUBLISH_URL, {"note": "try"})
    assert response.status_code == 200
    assert "没有发布" in response.content.decode()
    assert WizardVersion.objects.count() == 1


def test_publish_page_shows_the_changes_and_publishes(tree, editor, client):
    WizardOutcome.objects.filter(key="o-card").update(title_zh="卡片已经过期")
    factories.sign_in(client, editor)
    html = client.get(PUBLISH_URL).content.decode()
    assert "o-card" in html and "没有发现问题" in html
    response = client.post(PUBLISH_URL, {"note": "title"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/diagnosis/wizardversion/"
    version = WizardVersion.objects.get(number=2)
    assert version.published_by == editor and version.note == "title"
    assert live_tree().outcomes["o-card"]["title"]["zh-hans"] == "卡片已经过期"


def test_version_admin_is_read_only(tree, editor, client):
    factories.sign_in(client, editor)
    version = WizardVersion.objects.get()
    assert client.get("/admin/diagnosis/wizardversion/add/").status_code == 403
    assert client.get(f"/admin/diagnosis/wizardversion/{version.pk}/change/").status_code == 200
    assert client.get(f"/admin/diagnosis/wizardversion/{version.pk}/delete/").status_code == 403


@pytest.mark.parametrize("who", ["merchant_user", "agent"])
def test_only_editors_publish(tree, client, who, request):
    WizardOutcome.objects.filter(key="o-card").update(title_zh="卡片已经过期")
    factories.sign_in(client, request.getfixturevalue(who))
    assert client.post(PUBLISH_URL).status_code == 302  # to the admin login
    assert client.get("/admin/diagnosis/wizardquestion/").status_code == 302
    assert WizardVersion.objects.count() == 1


def test_staff_without_the_editor_role_cannot_publish(tree, client):
    from tests import factories

    staff = factories.user(is_staff=True)
    factories.sign_in(client, staff)
    assert client.post(PUBLISH_URL).status_code == 403
