"""The agents' dashboard: accessible SVG charts with data tables and CSV, filters, permissions,
query counts that do not grow with the data."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from tests import factories
from tests.diagnosis.insight_support import categories, ticket_at

pytestmark = pytest.mark.django_db
URL = "/desk/insight/"


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def make_tickets(n, bank=None):
    cats = categories()
    bank = bank or factories.bank()
    merchant = factories.merchant(acquirer=bank)
    user = factories.merchant_user(merchant=merchant)
    now = timezone.now()
    for i in range(n):
        ticket_at(
            merchant,
            now - dt.timedelta(hours=i),
            user=user,
            code=["51", "05", "91"][i % 3],
            category=cats[["funds_limits", "issuer_system", "network"][i % 3]],
            card=f"{1000 + i}",
        )
    return bank


def test_dashboard_shows_accessible_charts_with_tables_and_csv(agent_client):
    make_tickets(6)
    html = agent_client.get(URL).content.decode()
    assert "共 6 张拒绝工单" in html
    assert html.count('role="img"') == 5  # time, code, category, acquirer, model
    assert "这段时间里没有数据" in html  # the wizard chart: no runs yet
    for key in ["over_time", "codes", "categories", "acquirers", "terminal_models"]:
        assert f'id="chart-{key}-title"' in html
        assert f"/desk/insight/{key}.csv" in html
    assert "<table>" in html and "查看数据表" in html
    assert "<script" not in html.split("<main")[1].split("</main>")[0]
    assert "style=" not in html.split("<main")[1].split("</main>")[0]
    assert "首次回复用时" in html and "解决用时" in html


def test_dashboard_in_english(agent_client):
    make_tickets(2)
    html = agent_client.get("/en" + URL).content.decode()
    assert "Decline insight" in html and "Download CSV" in html


def test_csv_download_has_the_chart_numbers(agent_client):
    bank = make_tickets(6)
    response = agent_client.get(URL + "codes.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["key", "label", "tickets"],
        ["05", "05", "2"],
        ["51", "51", "2"],
        ["91", "91", "2"],
    ]
    acquirers = agent_client.get(URL + "acquirers.csv").content.decode("utf-8-sig")
    assert f"{bank.pk},{bank.name_zh},6" in acquirers
    wizard = agent_client.get(URL + "wizard.csv").content.decode("utf-8-sig")
    assert wizard.splitlines()[0] == "outcome,label,reached,answered,solved_yes,rate_percent"
    assert agent_client.get(URL + "nope.csv").status_code == 404


def test_acquirer_and_date_filters(agent_client):
    bank_a = make_tickets(3)
    make_tickets(5)
    html = agent_client.get(URL, {"acquirer": bank_a.pk}).content.decode()
    assert "共 3 张拒绝工单" in html
    today = timezone.localdate()
    html = agent_client.get(
        URL,
        {"date_from": today - dt.timedelta(days=400), "date_to": today - dt.timedelta(days=380)},
    ).content.decode()
    assert "共 0 张拒绝工单" in html and "这段时间里没有数据" in html
    # the CSV follows the same filters
    csv_text = agent_client.get(URL + "acquirers.csv", {"acquirer": bank_a.pk}).content.decode(
        "utf-8-sig"
    )
    assert len(csv_text.strip().splitlines()) == 2


def test_bad_filters_fall_back_and_keep_what_was_typed(agent_client):
    make_tickets(2)
    response = agent_client.get(
        URL, {"date_from": "2026-13-45", "acquirer": "999999", "bucket": "minute"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "以下筛选条件无效" in html and 'value="2026-13-45"' in html
    assert "共 2 张拒绝工单" in html  # defaults: the last 30 days
    response = agent_client.get(URL, {"date_from": "2026-03-10", "date_to": "2026-03-01"})
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = agent_client.get(
        URL, {"date_from": "2026-01-01", "date_to": "2026-03-01", "bucket": "hour"}
    )
    assert "按小时统计时，日期范围最多 14 天" in response.content.decode()


def test_htmx_gets_the_results_fragment(agent_client):
    make_tickets(2)
    full = agent_client.get(URL)
    assert "<html" in full.content.decode()
    fragment = agent_client.get(URL, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="insight-results"' in fragment
    assert "共 2 张拒绝工单" in fragment


@pytest.mark.parametrize("who", ["anonymous", "merchant_user", "editor"])
@pytest.mark.parametrize("url", [URL, URL + "codes.csv"])
def test_only_agents_reach_the_dashboard(client, request, who, url):
    if who != "anonymous":
        factories.sign_in(client, request.getfixturevalue(who))
    response = client.get(url)
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403


def test_query_count_is_constant_as_data_grows(agent_client, django_assert_max_num_queries):
    make_tickets(3)
    agent_client.get(URL)  # warm the session
    from django.core.cache import cache

    cache.clear()
    # 18 for the charts, 3 for the bank turnaround table (diagnosis/escalations/turnaround.py)
    with django_assert_max_num_queries(21) as cold:
        agent_client.get(URL)
    small = len(cold.captured_queries)
    make_tickets(30)
    make_tickets(30)
    cache.clear()
    with django_assert_max_num_queries(small) as ctx:
        agent_client.get(URL)
    assert len(ctx.captured_queries) == small
    with django_assert_max_num_queries(4):  # warm cache: session, user, groups (+ banner pool)
        agent_client.get(URL)


def test_filter_errors_use_the_pages_punctuation(agent_client):
    def errors(prefix):
        html = agent_client.get(prefix + URL, {"date_from": "2026-13-45"}).content.decode()
        start = html.index('<div class="form-errors"')
        return html[start : html.index("</div>", start)]

    english = errors("/en")
    assert "<li>From: Enter a valid date.</li>" in english and "：" not in english
    assert "<li>开始日期：" in errors("")
