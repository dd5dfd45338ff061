"""Synthetic content-gap logs for the benchmark (bench/generate.py): a year of daily search
rows (most queries found, a long tail that is not), unknown codes, and the wizard's per-path
counts rolled up from the generated wizard runs, as the live logging would have written them."""

import datetime as dt

SEARCH_DAYS = 365
QUERIES_PER_DAY = 1_500  # distinct queries a day (each row counts all searches of one query)
UNKNOWN_CODES_PER_DAY = 40


def search_rows(*, rng, today: dt.date, days: int = SEARCH_DAYS) -> list[dict]:
    words = ["余额", "限额", "密码", "终端", "网络", "冻结", "风控", "签到", "超时", "退款"]
    words += ["declined", "limit", "pin", "terminal", "network", "frozen", "timeout", "refund"]
    rows = []
    for day in range(days):
        date = today - dt.timedelta(days=day)
        for number in range(QUERIES_PER_DAY):
            popular = number < QUERIES_PER_DAY // 3
            query = f"{rng.choice(words)} {rng.choice(words)} {number if not popular else ''}"
            searches = rng.randint(5, 200) if popular else rng.randint(1, 4)
            empty = 0 if popular or rng.random() < 0.5 else searches
            rows.append(
                {
                    "day": date,
                    "lang": "en" if query[0].isascii() else "zh",
                    "query": query.strip()[:200],
                    "searches": searches,
                    "empty": empty,
                    "opened": 0 if empty else rng.randint(0, searches),
                    "results": 0 if empty else rng.randint(1, 50),
                }
            )
    return rows


def unknown_code_rows(*, rng, today: dt.date, days: int = SEARCH_DAYS) -> list[dict]:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return [
        {
            "day": today - dt.timedelta(days=day),
            "code": rng.choice("QXYZ") + rng.choice(alphabet),
            "source": rng.choice(["code_page", "search", "wizard"]),
            "count": rng.randint(1, 30),
        }
        for day in range(days)
        for _ in range(UNKNOWN_CODES_PER_DAY)
    ]


WIZARD_PATHS_SQL = """
INSERT INTO knowledge_wizardpathday (day, outcome, path, reached, not_solved)
SELECT (created_at AT TIME ZONE %s)::date, outcome, path, COUNT(*),
       COUNT(*) FILTER (WHERE solved = false)
FROM diagnosis_wizardrun GROUP BY 1, 2, 3
"""
