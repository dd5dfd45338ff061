"""Anonymous run records and the editors' per-outcome statistics."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from diagnosis.models import WizardRun, WizardVersion
from diagnosis.wizard import runs
from tests import factories
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


def finish(client, tokens, solved=None):
    response = client.get(tokens_url(tokens), follow=True)
    if solved is not None:
        token = re.search(r'name="run" value="([^"]+)"', response.content.decode()).group(1)
        client.post("/diagnose/vote/", {"run": token, "solved": solved})


def stats_by_outcome(**kwargs):
    return {row["outcome"]: row for row in runs.outcome_stats(**kwargs)}


def test_runs_record_version_path_outcome_and_time(client, tree):
    finish(client, ["51"])
    run = WizardRun.objects.get()
    assert run.version == WizardVersion.objects.get(number=1)
    assert (run.path, run.code, run.outcome, run.solved) == ("51", "51", "o-funds", None)
    assert run.created_at is not None and run.finished_at is None


def test_question_pages_record_nothing(client, tree):
    client.get(tokens_url(["no-code", "many"]))
    assert not WizardRun.objects.exists()


def test_statistics_count_correctly(client, tree):
    for _ in range(3):
        finish(client, ["51"], "yes")
    finish(client, ["51"], "no")
    finish(client, ["51"])  # no answer
    finish(client, ["no-code", "many", "dead"], "no")
    finish(client, ["no-code", "many", "dead"], "no")
    stats = stats_by_outcome()
    funds = stats["o-funds"]
    assert (funds["reached"], funds["yes"], funds["no"], funds["unanswered"]) == (5, 3, 1, 1)
    assert funds["rate"] == pytest.approx(0.75)
    terminal = stats["o-terminal"]
    assert (terminal["reached"], terminal["yes"], terminal["no"]) == (2, 0, 2)
    assert terminal["rate"] == 0
    assert list(stats) == ["o-funds", "o-terminal"]  # most reached first


def test_statistics_filter_by_period_and_version(client, tree):
    finish(client, ["51"], "yes")
    finish(client, ["91"], "no")
    WizardRun.objects.filter(outcome="o-bank").update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )
    recent = stats_by_outcome(since=timezone.now() - dt.timedelta(days=30))
    assert set(recent) == {"o-funds"}
    assert set(stats_by_outcome(version_number=1)) == {"o-funds", "o-bank"}
    assert stats_by_outcome(version_number=2) == {}


def test_outcome_without_votes_has_no_rate(client, tree):
    finish(client, ["51"])
    assert stats_by_outcome()["o-funds"]["rate"] is None


def test_editor_sees_the_statistics_page(client, tree, editor, django_assert_max_num_queries):
    finish(client, ["51"], "yes")
    finish(client, ["51"], "no")
    factories.sign_in(client, editor)
    response = client.get("/admin/diagnosis/wizardrun/stats/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "余额不足" in html and "o-funds" in html
    assert "50%" in html
    rows = response.context["rows"]
    assert rows[0]["reached"] == 2 and rows[0]["yes"] == 1 and rows[0]["no"] == 1
    # the page's query count does not grow with the number of runs
    with django_assert_max_num_queries(12) as captured:
        client.get("/admin/diagnosis/wizardrun/stats/?period=all")
    before = len(captured)
    for _ in range(10):
        finish(client, ["91"], "yes")
    with django_assert_max_num_queries(before):
        client.get("/admin/diagnosis/wizardrun/stats/?period=all")


def test_statistics_page_filters(client, tree, editor):
    finish(client, ["51"], "yes")
    factories.sign_in(client, editor)
    for query in ["?period=7", "?period=all&version=1", "?period=bogus&version=x"]:
        assert client.get(f"/admin/diagnosis/wizardrun/stats/{query}").status_code == 200
    empty = client.get("/admin/diagnosis/wizardrun/stats/?version=99")
    assert "这段时间还没有人走完向导" in empty.content.decode()


@pytest.mark.parametrize("who", ["merchant_user", "agent"])
def test_others_cannot_see_statistics(client, tree, who, request):
    factories.sign_in(client, request.getfixturevalue(who))
    response = client.get("/admin/diagnosis/wizardrun/stats/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_anonymous_cannot_see_statistics(client, tree):
    response = client.get("/admin/diagnosis/wizardrun/stats/")
    assert response.status_code == 302


def test_runs_are_read_only_in_the_admin(client, tree, editor):
    finish(client, ["51"])
    factories.sign_in(client, editor)
    run = WizardRun.objects.get()
    assert client.get("/admin/diagnosis/wizardrun/").status_code == 200
    assert client.get("/admin/diagnosis/wizardrun/add/").status_code == 403
    client.post(f"/admin/diagnosis/wizardrun/{run.pk}/change/", {"outcome": "o-card"})
    run.refresh_from_db()
    assert run.outcome == "o-funds"
    assert client.get(f"/admin/diagnosis/wizardrun/{run.pk}/delete/").status_code == 403


def test_bench_rows_for_the_benchmark(tree):
    import random

    from diagnosis.wizard.bench import wizard_run_rows

    model, rows = wizard_run_rows(rng=random.Random(1), now=timezone.now(), days=3, per_day=10)
    assert model is WizardRun
    assert len(rows) == 30
    WizardRun.objects.bulk_create(WizardRun(**row) for row in rows)
    stats = runs.outcome_stats()
    assert sum(row["reached"] for row in stats) == 30
