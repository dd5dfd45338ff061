"""Draft ↔ tree JSON, publishing, and the cached live tree.

- `draft_tree()` serialises the draft rows into the tree format (see diagnosis.wizard).
- `publish_draft()` validates the draft and stores it as a new immutable `WizardVersion`.
- `live_tree()` returns the latest published version as a `WizardTree`, cached: the shared
  cache (Redis in production) holds only the live version's number, and every process keeps the
  parsed trees of the versions it has seen (a version never changes, so that copy can't go stale).
  Publishing clears the cached number once the transaction commits.
"""

import hashlib
import json

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.wizard.engine import WizardTree
from diagnosis.wizard.validation import Problem, validate_against_db

LIVE_KEY = "wizard:live-version:v1"
LIVE_TTL = 60 * 60
TREE_KEYS = ("start", "questions", "code_routes", "outcomes")
_TREES: dict[str, WizardTree] = {}  # "pk:number:published_at" -> parsed tree (per process)
_MAX_KEPT = 4


class PublishRefused(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


# --- canonical JSON fragments (the same for the draft rows and for the content file) ---


def _pair(zh, en) -> dict:
    return {"zh-hans": (zh or "").strip(), "en": (en or "").strip()}


def canonical_target(item: dict) -> dict:
    if item.get("next"):
        return {"next": item["next"]}
    if item.get("outcome"):
        return {"outcome": item["outcome"]}
    return {}


def canonical_question(q: dict) -> dict:
    result = {"id": q.get("id"), "kind": q.get("kind"), "text": dict(q.get("text") or {})}
    help_text = q.get("help") or {}
    if any((help_text.get(lang) or "").strip() for lang in ("zh-hans", "en")):
        result["help"] = dict(help_text)
    result["options"] = [
        {"id": o.get("id"), "label": dict(o.get("label") or {}), **canonical_target(o)}
        for o in q.get("options") or []
    ]
    return result


def _filled(pair) -> bool:
    return any((v or "").strip() for v in (pair or {}).values() if isinstance(v, str))


def canonical_outcome(o: dict) -> dict:
    result = {
        "id": o.get("id"),
        "category": o.get("category"),
        "bank_side": bool(o.get("bank_side", False)),
        "title": dict(o.get("title") or {}),
        "summary": dict(o.get("summary") or {}),
        "causes": [dict(c) for c in o.get("causes") or []],
        "articles": list(o.get("articles") or []),
    }
    # Who acts, retry and category exceptions: left out while empty, so that outcomes loaded
    # before these facts existed keep the hash they were loaded with (and still count as
    # unedited when the content file brings the facts).
    for name in ("who_acts", "retry"):
        if o.get(name):
            result[name] = o[name]
    for name in ("who_acts_note", "retry_advice"):
        if _filled(o.get(name)):
            result[name] = dict(o[name])
    exceptions = [
        {"code": e.get("code"), "reason": dict(e.get("reason") or {})}
        for e in o.get("exceptions") or []
        if isinstance(e, dict)
    ]
    if exceptions:
        result["exceptions"] = exceptions
    return result


def canonical_tree(tree: dict) -> dict:
    """Only the tree itself (no category names etc.), in a stable form for comparisons."""
    return {
        "start": tree.get("start"),
        "questions": [canonical_question(q) for q in tree.get("questions") or []],
        "code_routes": {
            code: canonical_target(route)
            for code, route in sorted((tree.get("code_routes") or {}).items())
        },
        "outcomes": [canonical_outcome(o) for o in tree.get("outcomes") or []],
    }


def fragment_hash(fragment) -> str:
    raw = json.dumps(fragment, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


# --- the draft ---


def draft_questions() -> list[dict]:
    from diagnosis.models import WizardOption, WizardQuestion

    options: dict[int, list] = {}
    for o in WizardOption.objects.order_by("question_id", "position", "pk").values(
        "question_id", "key", "label_zh", "label_en", "next_question__key", "outcome__key"
    ):
        options.setdefault(o["question_id"], []).append(
            {
                "id": o["key"],
                "label": _pair(o["label_zh"], o["label_en"]),
                **canonical_target({"next": o["next_question__key"], "outcome": o["outcome__key"]}),
            }
        )
    result = []
    for q in WizardQuestion.objects.order_by("position", "key").values():
        question = {
            "id": q["key"],
            "kind": q["kind"],
            "text": _pair(q["text_zh"], q["text_en"]),
            "help": _pair(q["help_zh"], q["help_en"]),
            "options": options.get(q["id"], []),
        }
        question = canonical_question(question)
        question["_pk"], question["_start"] = q["id"], q["is_start"]
        result.append(question)
    return result


def draft_outcomes() -> list[dict]:
    from diagnosis.models import WizardCause, WizardOutcome, WizardOutcomeArticle

    causes: dict[int, list] = {}
    for c in WizardCause.objects.order_by("outcome_id", "position", "pk").values(
        "outcome_id", "text_zh", "text_en"
    ):
        causes.setdefault(c["outcome_id"], []).append(_pair(c["text_zh"], c["text_en"]))
    articles: dict[int, list] = {}
    for link in WizardOutcomeArticle.objects.order_by("outcome_id", "position", "pk").values(
        "outcome_id", "article__slug"
    ):
        articles.setdefault(link["outcome_id"], []).append(link["article__slug"])
    result = []
    for o in WizardOutcome.objects.order_by("position", "key").values(
        "id", "key", "category__key", "bank_side", "title_zh", "title_en", "summary_zh",
        "summary_en", "who_acts", "who_acts_note_zh", "who_acts_note_en", "retry",
        "retry_advice_zh", "retry_advice_en", "category_exceptions",
    ):  # fmt: skip
        outcome = canonical_outcome(
            {
                "id": o["key"],
                "category": o["category__key"],
                "bank_side": o["bank_side"],
                "title": _pair(o["title_zh"], o["title_en"]),
                "summary": _pair(o["summary_zh"], o["summary_en"]),
                "causes": causes.get(o["id"], []),
                "articles": articles.get(o["id"], []),
                "who_acts": o["who_acts"],
                "who_acts_note": _pair(o["who_acts_note_zh"], o["who_acts_note_en"]),
                "retry": o["retry"],
                "retry_advice": _pair(o["retry_advice_zh"], o["retry_advice_en"]),
                "exceptions": o["category_exceptions"] or [],
            }
        )
        outcome["_pk"] = o["id"]
        result.append(outcome)
    return result


def draft_code_routes() -> dict:
    from diagnosis.models import WizardCodeRoute

    return {
        r["code"]: canonical_target({"next": r["next_question__key"], "outcome": r["outcome__key"]})
        for r in WizardCodeRoute.objects.order_by("code").values(
            "code", "next_question__key", "outcome__key"
        )
    }


def _strip_private(items):
    return [{k: v for k, v in item.items() if not k.startswith("_")} for item in items]


def draft_tree() -> dict:
    questions = draft_questions()
    start = next((q["id"] for q in questions if q["_start"]), None)
    return {
        "start": start,
        "questions": _strip_private(questions),
        "code_routes": draft_code_routes(),
        "outcomes": _strip_private(draft_outcomes()),
    }


def category_names() -> dict:
    from knowledge.models import Category

    return {
        key: {"zh-hans": zh, "en": en}
        for key, zh, en in Category.objects.values_list("key", "name_zh", "name_en")
    }


def draft_snapshot() -> dict:
    """The draft as it would be published: the tree plus the names of its categories."""
    tree = draft_tree()
    names = category_names()
    used = {o["category"] for o in tree["outcomes"]}
    tree["categories"] = {key: names[key] for key in sorted(used) if key in names}
    return tree


def draft_wizard_tree() -> WizardTree:
    """The draft as a walkable tree (editors' preview; not cached)."""
    return WizardTree(draft_snapshot(), number=0, pk=None, stamp="draft")


# --- publishing ---


def latest_version():
    from diagnosis.models import WizardVersion

    return WizardVersion.objects.order_by("-number").first()


def diff_trees(old: dict | None, new: dict) -> dict:
    """What publishing `new` would change compared with `old`: ids added, removed, changed."""
    old = canonical_tree(old or {})
    new = canonical_tree(new)
    result = {}
    for part, index in (
        ("questions", lambda t: {q["id"]: q for q in t["questions"]}),
        ("outcomes", lambda t: {o["id"]: o for o in t["outcomes"]}),
        ("code_routes", lambda t: t["code_routes"]),
    ):
        before, after = index(old), index(new)
        result[part] = {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k]),
        }
    result["start_changed"] = old["start"] != new["start"]
    result["any"] = result["start_changed"] or any(
        v for part in ("questions", "outcomes", "code_routes") for v in result[part].values()
    )
    return result


def publish_draft(*, user=None, note: str = ""):
    """Validate the draft and publish it as the next version; PublishRefused lists problems."""
    from diagnosis.models import WizardVersion

    with transaction.atomic():
        snapshot = draft_snapshot()
        problems = validate_against_db(snapshot)
        latest = WizardVersion.objects.select_for_update().order_by("-number").first()
        if not problems and latest is not None and not diff_trees(latest.snapshot, snapshot)["any"]:
            problems = [
                Problem(
                    "unchanged",
                    "",
                    _("草稿和正在使用的第 %(number)s 版一模一样，不需要发布。"),
                    {"number": latest.number},
                )
            ]
        if problems:
            raise PublishRefused(problems)
        try:
            with transaction.atomic():
                version = WizardVersion.objects.create(
                    number=(latest.number if latest else 0) + 1,
                    snapshot=snapshot,
                    published_at=timezone.now(),
                    published_by=user if user is not None and user.is_authenticated else None,
                    note=note[:200],
                )
        except IntegrityError:
            raise PublishRefused(
                [Problem("conflict", "", _("刚才有其他人同时发布了新版本，请刷新后再试。"))]
            ) from None
        transaction.on_commit(invalidate_live)
    return version


# --- the live tree ---


def invalidate_live():
    cache.delete(LIVE_KEY)


def _stamp(pk, number, published_at) -> str:
    return f"{pk}:{number}:{published_at.isoformat()}"


def _remember(stamp: str, number: int, pk: int, snapshot: dict) -> WizardTree:
    tree = WizardTree(snapshot, number=number, pk=pk, stamp=stamp)
    if len(_TREES) >= _MAX_KEPT:
        _TREES.pop(next(iter(_TREES)))
    _TREES[stamp] = tree
    return tree


def live_tree() -> WizardTree | None:
    """The latest published tree, or None before the first publication (0–1 queries)."""
    from diagnosis.models import WizardVersion

    cached = cache.get(LIVE_KEY)
    if cached is not None:
        if cached.get("stamp") is None:
            return None
        if cached["stamp"] in _TREES:
            return _TREES[cached["stamp"]]
    row = (
        WizardVersion.objects.order_by("-number")
        .values("pk", "number", "published_at", "snapshot")
        .first()
    )
    if row is None:
        cache.set(LIVE_KEY, {"stamp": None}, LIVE_TTL)
        return None
    stamp = _stamp(row["pk"], row["number"], row["published_at"])
    cache.set(LIVE_KEY, {"stamp": stamp}, LIVE_TTL)
    return _TREES.get(stamp) or _remember(stamp, row["number"], row["pk"], row["snapshot"])
