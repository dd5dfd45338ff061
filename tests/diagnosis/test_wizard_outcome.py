"""The outcome page: causes and fixes, who acts and retry, announcements, the ticket hand-over."""

import datetime as dt
import html as html_lib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from diagnosis.models import WizardRun
from knowledge.models import Announcement, Article
from tests import factories
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


def outcome_page(client, tokens, **kwargs):
    response = client.get(tokens_url(tokens), follow=True, **kwargs)
    assert response.status_code == 200
    return response


def ticket_link(response):
    match = re.search(r'href="((?:/en)?/tickets/new/\?[^"]+)"', response.content.decode())
    return html_lib.unescape(match.group(1)) if match else None


def vote(client, response, solved):
    html = response.content.decode()
    action = re.search(r'<form method="post" action="([^"]+)" class="wizard-vote"', html).group(1)
    assert action.endswith("/diagnose/vote/")
    token = re.search(r'name="run" value="([^"]+)"', html).group(1)
    return client.post(action, {"run": token, "solved": solved})


def test_outcome_shows_causes_fixes_and_steps_from_articles(client, tree):
    html = outcome_page(client, ["no-code", "only-this", "balance"]).content.decode()
    assert "<h1" in html and "余额不足" in html
    assert "余额不足的摘要。" in html
    assert html.index("余额不足的第一个原因") < html.index("余额不足的第二个原因")
    assert "余额不足怎么办" in html  # the article
    assert "余额不足的文章摘要" in html
    assert "先<strong>核对</strong>余额不足" in html  # merchant steps, **bold** rendered safely
    assert "可能的原因" in html and "怎么解决" in html


def test_unpublished_articles_are_not_shown(client, tree):
    Article.objects.filter(slug="a-funds").update(status=Article.Status.DRAFT)
    html = outcome_page(client, ["no-code", "only-this", "balance"]).content.decode()
    assert "余额不足怎么办" not in html
    assert "解决办法的文章暂时打不开" in html


def test_who_acts_and_retry_come_from_the_code_when_given(client, tree):
    html = outcome_page(client, ["91"]).content.decode()
    assert "发卡行" in html  # ResponseCode 91: issuer acts
    assert "稍后重试" in html
    assert "发卡行故障：处理好再试" in html  # the code's own retry advice
    assert "91" in html and "发卡行故障" in html  # the code's meaning


def test_who_acts_and_retry_without_a_code_come_from_the_outcome(client, tree):
    # o-terminal: no code leads to it → the terminal category: the merchant acts after a fix
    html = outcome_page(client, ["no-code", "many", "dead"]).content.decode()
    facts = html.split('class="wizard-facts"')[1].split("</dl>")[0]
    assert "商户" in facts and "解决问题后再试" in facts
    # o-funds is reached by code 51 (cardholder, after fix), used even when no code was typed
    html = outcome_page(client, ["no-code", "only-this", "balance"]).content.decode()
    facts = html.split('class="wizard-facts"')[1].split("</dl>")[0]
    assert "持卡人" in facts


def test_did_this_solve_it_yes_goes_to_thanks_and_is_recorded(client, tree):
    response = outcome_page(client, ["51"])
    answer = vote(client, response, "yes")
    assert answer.status_code == 302 and answer["Location"] == "/diagnose/thanks/"
    run = WizardRun.objects.get()
    assert run.solved is True and run.finished_at is not None and run.outcome == "o-funds"
    assert "问题解决了" in client.get(answer["Location"]).content.decode()


def test_did_this_solve_it_no_offers_the_ticket_with_code_category_and_summary(client, tree):
    response = outcome_page(client, ["05", "ask-bank"])
    assert ticket_link(response) is None  # only offered once the merchant says it didn't help
    answer = vote(client, response, "no")
    assert answer.status_code == 302
    assert answer["Location"].endswith("#wizard-feedback")
    assert WizardRun.objects.get().solved is False
    page = client.get(answer["Location"])
    html = page.content.decode()
    assert "记录这笔拒绝交易，提交给银行" in html
    assert "需要先登录商户账号" in html
    link = ticket_link(page)
    assert urlsplit(link).path == "/tickets/new/"
    params = parse_qs(urlsplit(link).query)
    assert params["code"] == ["05"]
    assert params["category"] == ["issuer_system"]
    summary = params["summary"][0]
    assert "应答码：05" in summary
    assert "1. 应答码是多少？ → 05" in summary
    assert "2. 顾客收到银行的短信了吗？ → 银行要顾客联系" in summary
    assert "结论：发卡行拒绝" in summary
    assert WizardRun.objects.count() == 1  # coming back after the vote is the same run


def test_summary_is_in_english_on_the_english_site(client, tree):
    response = client.get("/en" + tokens_url(["no-code", "many", "dead"]), follow=True)
    page = client.get(vote(client, response, "no")["Location"])
    assert page.request["PATH_INFO"].startswith("/en/")
    summary = parse_qs(urlsplit(ticket_link(page)).query)["summary"][0]
    assert "Do other cards work? → Several cards fail" in summary
    assert "code" not in parse_qs(urlsplit(ticket_link(page)).query)


def test_ticket_prefill_survives_the_login(client, tree, merchant_user):
    response = outcome_page(client, ["05", "ask-bank"])
    link = ticket_link(client.get(vote(client, response, "no")["Location"]))
    # logged out: the ticket form sends the merchant to log in, keeping the whole query
    to_login = client.get(link)
    assert to_login.status_code == 302
    login_url = to_login["Location"]
    assert urlsplit(login_url).path == "/accounts/login/"
    next_url = parse_qs(urlsplit(login_url).query)["next"][0]
    assert next_url == link
    # the login page carries `next` through the form
    login_page = client.get(login_url).content.decode()
    login_form = login_page.split('action="/accounts/login/"')[1].split("</form>")[0]
    hidden_next = re.search(r'name="next" value="([^"]*)"', login_form).group(1)
    assert html_lib.unescape(hidden_next) == link
    logged_in = client.post(
        "/accounts/login/",
        {
            "username": merchant_user.username,
            "password": factories.PASSWORD,
            "next": html_lib.unescape(hidden_next),
        },
    )
    assert logged_in.status_code == 302 and logged_in["Location"] == link
    form_page = client.get(logged_in["Location"])
    assert form_page.status_code == 200
    form = form_page.context["form"]
    assert form["response_code"].value() == "05"
    assert form["category"].value() == "issuer_system"
    assert "顾客收到银行的短信了吗？ → 银行要顾客联系" in form["wizard_summary"].value()


def test_logged_in_agent_is_told_only_merchants_record(client, tree, agent):
    factories.sign_in(client, agent)
    response = outcome_page(client, ["51"])
    page = client.get(vote(client, response, "no")["Location"])
    assert ticket_link(page) is None
    assert "只有商户账号可以记录交易" in page.content.decode()


def test_changing_the_vote_after_no(client, tree):
    response = outcome_page(client, ["51"])
    page = client.get(vote(client, response, "no")["Location"])
    assert vote(client, page, "yes")["Location"] == "/diagnose/thanks/"
    assert WizardRun.objects.get().solved is True


def test_forged_or_missing_run_tokens_are_refused(client, tree):
    outcome_page(client, ["51"])
    run = WizardRun.objects.get()
    for token in ["", str(run.pk), f"{run.pk}:forged", "x" * 500]:
        response = client.post("/diagnose/vote/", {"run": token, "solved": "yes"})
        assert response.status_code == 400
    response = outcome_page(client, ["51"])
    token = re.search(r'name="run" value="([^"]+)"', response.content.decode()).group(1)
    assert client.post("/diagnose/vote/", {"run": token, "solved": "maybe"}).status_code == 400
    assert client.get("/diagnose/vote/").status_code == 405
    assert not WizardRun.objects.filter(solved__isnull=False).exists()


def test_a_run_token_from_another_path_is_not_reused(client, tree):
    first = client.get(tokens_url(["51"]))["Location"]
    token = parse_qs(urlsplit(first).query)["r"][0]
    response = client.get(tokens_url(["91"], r=token))
    assert response.status_code == 302  # a new run for this path
    assert WizardRun.objects.count() == 2


def test_no_personal_data_is_stored(client, tree, merchant_user):
    factories.sign_in(client, merchant_user)
    outcome_page(client, ["no-code", "only-this", "balance"], REMOTE_ADDR="203.0.113.9")
    run = WizardRun.objects.values().get()
    assert set(run) == {
        "id", "version_id", "path", "code", "outcome", "bank_lead", "solved", "created_at",
        "finished_at",
    }  # fmt: skip
    assert "203.0.113.9" not in str(run)


# --- bank announcements ---


def announcement(**kwargs):
    defaults = {
        "title_zh": "银联系统今晚维护",
        "title_en": "Card network maintenance tonight",
        "starts_at": timezone.now() - dt.timedelta(hours=1),
        "ends_at": timezone.now() + dt.timedelta(hours=2),
    }
    return Announcement.objects.create(**{**defaults, **kwargs})


def test_without_announcement_the_reached_outcome_leads(client, tree):
    html = outcome_page(client, ["no-code", "many", "fine", "midnight"]).content.decode()
    assert "<h1" in html
    assert re.search(r"<h1[^>]*>网络故障</h1>", html)
    assert "如果不是银行的原因" not in html
    assert WizardRun.objects.get().bank_lead is False


def test_active_announcement_makes_the_bank_outcome_lead_when_the_answers_fit(client, tree):
    announcement()
    response = outcome_page(client, ["no-code", "many", "fine", "midnight"])
    html = response.content.decode()
    assert re.search(r"<h1[^>]*>银行系统维护</h1>", html)
    assert "如果不是银行的原因" in html
    assert html.index("银行系统维护") < html.index("网络故障的摘要。")
    assert "银联系统今晚维护" in html
    run = WizardRun.objects.get()
    assert run.outcome == "o-bank" and run.bank_lead is True
    # the ticket then names the bank-side category
    page = client.get(vote(client, response, "no")["Location"])
    assert parse_qs(urlsplit(ticket_link(page)).query)["category"] == ["issuer_system"]


def test_announcement_does_not_lead_when_the_answers_point_elsewhere(client, tree):
    announcement()
    html = outcome_page(client, ["no-code", "many", "dead"]).content.decode()
    assert re.search(r"<h1[^>]*>终端故障</h1>", html)  # terminal dead: not the bank
    assert "如果不是银行的原因" not in html
    html = outcome_page(client, ["no-code", "only-this", "balance"]).content.decode()
    assert re.search(r"<h1[^>]*>余额不足</h1>", html)


def test_announcement_is_shown_where_it_matters_on_the_bank_question(client, tree):
    announcement()
    html = client.get(tokens_url(["no-code", "many", "fine"])).content.decode()
    step = html.split('id="wizard-step"')[1]
    assert "银行正在发布公告" in step and "银联系统今晚维护" in step
    html = client.get(tokens_url(["no-code", "many"])).content.decode()
    assert "银行正在发布公告" not in html.split('id="wizard-step"')[1]
    assert "银联系统今晚维护" in html  # still in the banner


def test_expired_or_future_announcements_do_not_count(client, tree):
    now = timezone.now()
    announcement(starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(days=1))
    announcement(title_zh="明天的维护", starts_at=now + dt.timedelta(days=1), ends_at=None)
    html = outcome_page(client, ["no-code", "many", "fine", "midnight"]).content.decode()
    assert re.search(r"<h1[^>]*>网络故障</h1>", html)
    assert "明天的维护" not in html


def test_bank_specific_announcement_counts_only_for_that_banks_merchants(
    client, tree, merchant_user, other_merchant_user
):
    announcement(bank=merchant_user.merchant.acquirer, title_zh="收单行系统升级")
    path = ["no-code", "many", "fine", "midnight"]
    # anonymous: only all-bank announcements
    html = outcome_page(client, path).content.decode()
    assert "收单行系统升级" not in html and re.search(r"<h1[^>]*>网络故障</h1>", html)
    # a merchant of another acquirer: not his bank
    factories.sign_in(client, other_merchant_user)
    html = outcome_page(client, path).content.decode()
    assert "收单行系统升级" not in html
    # the merchant of that acquirer: shown, and the bank-side outcome leads
    factories.sign_in(client, merchant_user)
    html = outcome_page(client, path).content.decode()
    assert "收单行系统升级" in html and re.search(r"<h1[^>]*>银行系统维护</h1>", html)


def test_bank_side_outcome_reached_directly_says_the_announcement_fits(client, tree):
    announcement()
    html = outcome_page(client, ["no-code", "many", "fine", "notice"]).content.decode()
    assert "很可能就是这次失败的原因" in html
    assert "如果不是银行的原因" not in html
