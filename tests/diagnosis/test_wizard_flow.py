"""Walking the wizard through the test client: no JS (plain links and GET form) and htmx."""

from urllib.parse import parse_qs, urlsplit

import pytest

from diagnosis.models import WizardRun
from tests import factories
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


def body(response):
    return response.content.decode()


def option_links(response):
    """The option links of a step, as (label, href)."""
    import re

    return re.findall(r'<a class="option" href="([^"]+)"[^>]*>([^<]+)</a>', body(response))


def test_start_page_asks_for_the_code(client, tree):
    response = client.get("/diagnose/")
    assert response.status_code == 200
    html = body(response)
    assert "应答码是多少？" in html
    assert 'name="code"' in html and 'method="get"' in html
    assert 'href="/diagnose/?v=1&amp;a=no-code"' in html
    assert 'hx-get="/diagnose/?v=1&amp;a=no-code"' in html
    assert "<progress" in html
    assert "上一步" not in html  # nothing to go back to yet


def test_no_js_walk_by_links_to_an_outcome(client, tree):
    url = "/diagnose/"
    for label in ["没有应答码", "好几张都不行", "终端和网络都正常", "有维护通知"]:
        response = client.get(url)
        assert response.status_code == 200
        links = {text.strip(): href.replace("&amp;", "&") for href, text in option_links(response)}
        url = links[label]
    assert url == "/diagnose/?v=1&a=no-code.many.fine.notice"
    response = client.get(url, follow=True)
    final_url, status = response.redirect_chain[-1]
    assert status == 302
    assert parse_qs(urlsplit(final_url).query)["r"]  # the signed run id
    html = body(response)
    assert "银行系统维护" in html
    assert "问题解决了吗？" in html
    assert WizardRun.objects.get().path == "no-code.many.fine.notice"


def test_question_page_shows_progress_back_and_start_over(client, tree):
    html = body(client.get(tokens_url(["no-code", "many"])))
    assert "终端怎么样？" in html
    assert 'href="/diagnose/?v=1&amp;a=no-code"' in html  # back
    assert "上一步" in html and "重新开始" in html
    assert 'href="/diagnose/"' in html  # start over
    assert 'value="2"' in html  # two answers so far on the progress bar
    assert "你已回答 2 个问题" in html
    assert "好几张都不行" in html  # the answers so far, each changeable


def test_code_form_with_a_clear_code_goes_straight_to_its_outcome(client, tree):
    response = client.get("/diagnose/", {"v": "1", "a": "", "code": "51"})
    assert response.status_code == 302
    assert response["Location"] == "/diagnose/?v=1&a=51"
    html = body(client.get(response["Location"], follow=True))
    assert "余额不足" in html


def test_vague_code_continues_with_questions(client, tree):
    response = client.get("/diagnose/", {"v": "1", "a": "", "code": "05"}, follow=True)
    assert "顾客收到银行的短信了吗？" in body(response)
    assert response.redirect_chain == [("/diagnose/?v=1&a=05", 302)]


@pytest.mark.parametrize("typed", ["51", " 51 ", "５１", "5-1"])
def test_code_is_normalised(client, tree, typed):
    response = client.get("/diagnose/", {"v": "1", "a": "", "code": typed})
    assert response["Location"] == "/diagnose/?v=1&a=51"


def test_letter_codes_typed_in_lowercase_are_accepted():
    from diagnosis.wizard.engine import WizardTree, walk
    from tests.diagnosis.wizard_support import small_tree

    data = small_tree()
    data["code_routes"]["A0"] = {"outcome": "o-terminal"}
    result = walk(WizardTree(data, number=1, pk=1), ["a0"])
    assert result.outcome["id"] == "o-terminal"
    assert result.path == "A0" and result.code == "A0"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "请输入两位应答码"),
        ("5", "应答码是两位数字或字母"),
        ("<b>", "应答码是两位数字或字母"),
        ("ZZ", "没有找到应答码 ZZ"),
    ],
)
def test_bad_code_keeps_the_question_with_a_message_and_the_typed_value(
    client, tree, typed, message
):
    response = client.get("/diagnose/", {"v": "1", "a": "", "code": typed})
    assert response.status_code == 200
    html = body(response)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert "<b>" not in html.split('id="wizard-code"')[1].split(">")[0]  # escaped
    if typed == "ZZ":
        assert 'value="ZZ"' in html


def test_htmx_step_returns_a_fragment(client, tree):
    response = client.get(tokens_url(["no-code"]), HTTP_HX_REQUEST="true")
    html = body(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith("<title>")  # top level: htmx moves it to the document title
    assert '<section id="wizard-step"' in html
    assert "别的卡能用吗？" in html
    assert "autofocus" in html  # focus moves to the new question for keyboard users
    assert "<title>" in html
    assert "HX-Request" in response["Vary"]


def test_full_page_without_htmx_has_no_autofocus(client, tree):
    html = body(client.get(tokens_url(["no-code"])))
    assert "<html" in html and "autofocus" not in html


def test_htmx_code_form_pushes_the_canonical_url(client, tree):
    response = client.get("/diagnose/", {"v": "1", "a": "", "code": "05"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/diagnose/?v=1&a=05"
    assert "<html" not in body(response)


def test_htmx_bad_code_does_not_push_the_url(client, tree):
    response = client.get("/diagnose/", {"v": "1", "a": "", "code": "ZZ"}, HTTP_HX_REQUEST="true")
    assert response["HX-Push-Url"] == "false"
    assert "没有找到应答码" in body(response)


def test_htmx_outcome_records_the_run_and_pushes_its_url(client, tree):
    response = client.get(tokens_url(["51"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in body(response)
    assert "&r=" in response["HX-Push-Url"]
    assert WizardRun.objects.count() == 1


def test_refreshing_an_outcome_does_not_count_twice(client, tree):
    response = client.get(tokens_url(["51"]))
    run_url = response["Location"]
    for _ in range(3):
        assert client.get(run_url).status_code == 200
    assert WizardRun.objects.count() == 1


@pytest.mark.parametrize(
    "answers",
    [
        ["no-code", "nonsense"],
        ["no-code", "many", "fine", "notice", "extra"],  # goes on after an outcome
        ["ZZ"],  # a code without a route
        ["x" * 500],
    ],
)
def test_answers_that_do_not_fit_restart_with_a_message(client, tree, answers):
    response = client.get(tokens_url(answers))
    assert response.status_code == 200
    html = body(response)
    assert "应答码是多少？" in html  # back at the start
    assert "请从头开始" in html


def test_stale_link_from_an_old_version_restarts_with_a_message(client, tree):
    response = client.get(tokens_url(["no-code", "gone-option"], version=0))
    html = body(response)
    assert "排查问题刚刚更新过" in html
    assert "应答码是多少？" in html


def test_stale_link_restart_pushes_the_start_url_for_htmx(client, tree):
    response = client.get(tokens_url(["no-code", "gone"], version=0), HTTP_HX_REQUEST="true")
    assert response["HX-Push-Url"] == "/diagnose/"
    assert "<html" not in body(response)


def test_garbage_parameters_never_fail(client, tree):
    for params in [
        {"v": "abc"},
        {"a": "...."},
        {"a": "\x00"},
        {"code": "\u202e51"},
        {"r": "x"},
        {"a": "51", "r": "中文:签名:伪造"},
        {"a": "51", "r": "MQ:1xWJZM:" + "a" * 43},
    ]:
        assert client.get("/diagnose/", params).status_code in (200, 302)


def test_english_wizard(client, tree):
    html = body(client.get("/en/diagnose/?v=1&a=no-code"))
    assert "Do other cards work?" in html
    assert 'href="/en/diagnose/?v=1&amp;a=no-code.only-this"' in html


def test_no_published_version_shows_an_empty_state(client, db):
    response = client.get("/diagnose/")
    assert response.status_code == 200
    assert "故障排查向导暂时不可用" in body(response)


def test_navigation_has_the_wizard(client, db):
    items = client.get("/diagnose/").context["nav_items"]
    assert any(item["url"] == "/diagnose/" and item["current"] for item in items)


def test_question_pages_use_few_queries_that_do_not_grow(
    client, tree, django_assert_max_num_queries
):
    client.get("/diagnose/")  # warm the caches (live version, announcements)
    # the tree is cached, the announcements too: a question needs no query at all
    with django_assert_max_num_queries(1):
        client.get(tokens_url(["no-code", "many", "fine"]))
    with django_assert_max_num_queries(1):
        client.get(tokens_url(["no-code", "many"]), HTTP_HX_REQUEST="true")
    # more runs in the database change nothing
    for _ in range(20):
        client.get(tokens_url(["51"]))
    with django_assert_max_num_queries(1):
        client.get(tokens_url(["no-code", "many", "fine"]))


def test_outcome_page_query_count_is_constant(
    client, tree, merchant_user, django_assert_max_num_queries
):
    first = client.get(tokens_url(["51"]))["Location"]
    client.get(first)
    with django_assert_max_num_queries(4):  # articles, response code, run (+ announcements)
        client.get(first)
    for _ in range(20):
        client.get(tokens_url(["91"]))
    with django_assert_max_num_queries(4):
        client.get(first)
    factories.sign_in(client, merchant_user)
    with django_assert_max_num_queries(8):  # + session and user, + terminal health (insight)
        client.get(first)


def test_merchant_user_query_count_on_a_question(
    client, tree, merchant_user, django_assert_max_num_queries
):
    factories.sign_in(client, merchant_user)
    client.get("/diagnose/")
    with django_assert_max_num_queries(5):  # session, user, groups (menu), acquirer (+ pool)
        client.get(tokens_url(["no-code"]))


def test_editor_previews_the_draft(client, tree, editor):
    from diagnosis.models import WizardQuestion

    WizardQuestion.objects.filter(key="q-cards").update(text_zh="草稿里改过的问题？")
    factories.sign_in(client, editor)
    html = body(client.get("/diagnose/?draft=1&a=no-code"))
    assert "草稿里改过的问题？" in html
    assert "草稿预览" in html
    assert 'href="/diagnose/?draft=1&amp;a=no-code.only-this"' in html
    # the draft outcome records no run and needs no redirect
    response = client.get("/diagnose/?draft=1&a=51")
    assert response.status_code == 200 and not WizardRun.objects.exists()
    # the public still sees the published question
    client.logout()
    assert "别的卡能用吗？" in body(client.get("/diagnose/?draft=1&a=no-code"))


def test_merchant_cannot_preview_the_draft(client, tree, merchant_user):
    from diagnosis.models import WizardQuestion

    WizardQuestion.objects.filter(key="q-cards").update(text_zh="草稿里改过的问题？")
    factories.sign_in(client, merchant_user)
    assert "草稿里改过的问题？" not in body(client.get("/diagnose/?draft=1&a=no-code"))
