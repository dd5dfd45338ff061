"""The content-gap report: read from the per-day tables only (a bounded number of queries,
whatever the traffic: 1M wizard runs or a year of searches are a few thousand rows a day).

A year of searches is still ~550,000 day rows, most of them the long tail of queries typed once,
and summing them per query takes a third of a second of the database. So the report, like the
insight dashboard's aggregates, is kept in the shared cache per date range and language
(`cached_gap_report`), under the gaps version (replaced whenever counts are written: a batch
flush, a wizard run, a vote) and the pages version (any content edit: a code added is no longer
unknown, a wizard edit renames outcomes). A cached report is never older than the counts written
so far; KNOWLEDGE_GAP_REPORT_SECONDS only bounds how long an unused one is kept.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from knowledge.models import (
    Article,
    ArticleVote,
    ResponseCode,
    SearchQueryDay,
    UnknownCodeDay,
    WizardPathDay,
)

DEFAULT_DAYS = 30
ROWS = 50
COMMENTS = 3


@dataclass
class GapReport:
    start: date
    end: date
    searches: list
    codes: list
    outcomes: list
    questions: list
    articles: list
    computed_at: datetime | None = field(default=None)


def _share(part, whole):
    return (part / whole) if whole else 0.0


def search_gaps(*, start, end, limit=ROWS) -> list[dict]:
    """Queries with no result, or never opened: most often searched first."""
    rows = (
        SearchQueryDay.objects.filter(day__gte=start, day__lte=end)
        .values("lang", "query")
        .annotate(
            total=Sum("searches"),
            empty_total=Sum("empty"),
            opened_total=Sum("opened"),
        )
        .filter(Q(empty_total__gt=0) | Q(opened_total=0))
        .order_by("-empty_total", "-total", "query")[:limit]
    )
    return [
        {
            "lang": row["lang"],
            "query": row["query"],
            "searches": row["total"],
            "empty": row["empty_total"],
            "opened": row["opened_total"],
        }
        for row in rows
    ]


def unknown_codes(*, start, end, limit=ROWS) -> list[dict]:
    """Codes typed that are still unknown, most often typed first."""
    known = ResponseCode.objects.filter(code=OuterRef("code"))
    rows = (
        UnknownCodeDay.objects.filter(day__gte=start, day__lte=end)
        .annotate(known=Exists(known))
        .filter(known=False)
        .values("code")
        .annotate(
            total=Sum("count"),
            code_page=Sum("count", filter=Q(source=UnknownCodeDay.Source.CODE_PAGE)),
            search=Sum("count", filter=Q(source=UnknownCodeDay.Source.SEARCH)),
            wizard=Sum("count", filter=Q(source=UnknownCodeDay.Source.WIZARD)),
        )
        .order_by("-total", "code")[:limit]
    )
    return [
        {
            "code": row["code"],
            "count": row["total"],
            "code_page": row["code_page"] or 0,
            "search": row["search"] or 0,
            "wizard": row["wizard"] or 0,
        }
        for row in rows
    ]


def wizard_gaps(*, start, end, tree=None, limit=ROWS) -> tuple[list[dict], list[dict]]:
    """(outcomes, questions) by the share of runs answered "not solved", highest first.

    A question counts every run whose path passed through it (replayed on the live tree)."""
    from diagnosis.wizard import engine

    rows = list(
        WizardPathDay.objects.filter(day__gte=start, day__lte=end)
        .values("outcome", "path")
        .annotate(reached_total=Sum("reached"), no_total=Sum("not_solved"))
        .filter(reached_total__gt=0)
    )
    outcomes: dict[str, dict] = {}
    questions: dict[str, dict] = {}
    for row in rows:
        reached, no = row["reached_total"], row["no_total"]
        entry = outcomes.setdefault(
            row["outcome"], {"outcome": row["outcome"], "reached": 0, "not_solved": 0, "paths": {}}
        )
        entry["reached"] += reached
        entry["not_solved"] += no
        entry["paths"][row["path"]] = entry["paths"].get(row["path"], 0) + no
        walk = engine.walk(tree, engine.split_answers(row["path"])) if tree else None
        for answer in walk.answers if walk else []:
            qid = answer.question.get("id", "")
            step = questions.setdefault(
                qid,
                {
                    "question": qid,
                    "text": engine.text(answer.question.get("text")),
                    "reached": 0,
                    "not_solved": 0,
                },
            )
            step["reached"] += reached
            step["not_solved"] += no
    for entry in outcomes.values():
        title = tree.outcomes.get(entry["outcome"], {}).get("title") if tree else None
        entry["title"] = engine.text(title) if title else entry["outcome"]
        entry["share"] = _share(entry["not_solved"], entry["reached"])
        worst = max(entry.pop("paths").items(), key=lambda item: (item[1], item[0]))
        entry["path"] = worst[0] if worst[1] else ""
    for step in questions.values():
        step["share"] = _share(step["not_solved"], step["reached"])

    def order(item):
        return (-item["share"], -item["not_solved"], item.get("outcome", item.get("question")))

    return (
        sorted(outcomes.values(), key=order)[:limit],
        sorted(questions.values(), key=order)[:limit],
    )


def unhelpful_articles(*, start, end, limit=ROWS) -> list[dict]:
    """Articles with the most "not helpful" votes in the range, with their latest comments."""
    in_range = Q(votes__helpful=False, votes__created_at__date__gte=start) & Q(
        votes__created_at__date__lte=end
    )
    articles = list(
        Article.objects.annotate(not_helpful=Count("votes", filter=in_range))
        .filter(not_helpful__gt=0)
        .order_by("-not_helpful", "slug")
        .values(
            "pk", "slug", "title_zh", "title_en", "not_helpful", helpful_total=F("helpful_yes")
        )[:limit]
    )
    comments: dict[int, list[str]] = {row["pk"]: [] for row in articles}
    if comments:
        votes = (
            ArticleVote.objects.filter(
                article_id__in=comments,
                helpful=False,
                created_at__date__gte=start,
                created_at__date__lte=end,
            )
            .exclude(comment="")
            .order_by("-created_at", "-pk")
            .values_list("article_id", "comment")
        )
        for article_id, comment in votes[: limit * 20]:
            if len(comments[article_id]) < COMMENTS:
                comments[article_id].append(comment)
    for row in articles:
        row["comments"] = comments[row["pk"]]
    return articles


def gap_report(*, start, end) -> GapReport:
    from django.utils import timezone

    from diagnosis.wizard.snapshot import live_tree

    outcomes, questions = wizard_gaps(start=start, end=end, tree=live_tree())
    return GapReport(
        start=start,
        end=end,
        searches=search_gaps(start=start, end=end),
        codes=unknown_codes(start=start, end=end),
        outcomes=outcomes,
        questions=questions,
        articles=unhelpful_articles(start=start, end=end),
        computed_at=timezone.now(),
    )


def report_cache_key(*, start, end) -> str:
    from django.utils.translation import get_language

    from config import pagecache
    from knowledge.gaps import services

    return ":".join(
        (
            "knowledge:gaps:report",
            f"{start:%Y%m%d}-{end:%Y%m%d}",
            get_language() or "",  # outcome and question texts are in the editor's language
            services.version(),
            pagecache.pages_version(),
        )
    )


def cached_gap_report(*, start, end) -> GapReport:
    """gap_report from the shared cache when nothing was counted or edited since it was made."""
    key = report_cache_key(start=start, end=end)
    report = cache.get(key)
    if report is None:
        report = gap_report(start=start, end=end)
        cache.set(key, report, settings.KNOWLEDGE_GAP_REPORT_SECONDS)
    return report


def default_range(today) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today
