"""Load wizard/content/wizard.json into the draft and publish it, without undoing editors' work.

Each question (with its options), outcome (with its causes and articles) and code route keeps
`source_hash`, the hash of the content it was last loaded with; whether an item is created,
updated, left alone or (deleted by an editor) not brought back is the rule of
config/content_merge.py, the same as the knowledge loader's. Items an earlier load created that
are gone from the file are removed, unless an editor changed them (the editor's version wins).
The draft is then published when nothing is live yet, or when the live version equals the draft
as it was before the load (so editors' unpublished changes are never published behind their
back). Loading the same file twice changes nothing.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from config import content_merge
from diagnosis.wizard.snapshot import (
    PublishRefused,
    canonical_outcome,
    canonical_question,
    canonical_target,
    canonical_tree,
    diff_trees,
    draft_code_routes,
    draft_outcomes,
    draft_questions,
    draft_tree,
    fragment_hash,
    latest_version,
    publish_draft,
)
from diagnosis.wizard.validation import Problem, validate_tree

CONTENT_FILE = Path(__file__).resolve().parent / "content" / "wizard.json"


class WizardContentError(ValueError):
    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class LoadReport:
    unchanged_file: bool = False
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    kept_edited: list = field(default_factory=list)
    kept_deleted: list = field(default_factory=list)
    removed: list = field(default_factory=list)  # gone from the file, unedited: deleted
    kept_removed: list = field(default_factory=list)  # gone from the file, but edited: kept
    published: int | None = None
    not_published_reason: str = ""
    problems: list = field(default_factory=list)

    def summary(self) -> str:
        if self.unchanged_file:
            text = "file unchanged since the last load"
        else:
            text = (
                f"{len(self.created)} created, {len(self.updated)} updated, "
                f"{len(self.kept_edited)} kept (edited by an editor), "
                f"{len(self.kept_deleted)} not restored (deleted by an editor)"
            )
            if self.removed or self.kept_removed:
                text += (
                    f", {len(self.removed)} removed (gone from the file), "
                    f"{len(self.kept_removed)} kept although gone from the file (edited)"
                )
        if self.published:
            text += f"; published version {self.published}"
        elif self.not_published_reason:
            text += f"; not published: {self.not_published_reason}"
        return text


def read_content(path: Path = CONTENT_FILE) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WizardContentError(f"cannot read {path}: {error}") from error
    problems = validate_tree(data)  # structure and languages; articles etc. after loading
    if problems:
        raise WizardContentError(f"{path} has {len(problems)} problem(s)", problems)
    return data


def load_wizard(path: Path = CONTENT_FILE, *, publish: bool = True) -> LoadReport:
    from diagnosis.models import WizardImport

    data = read_content(path)
    file_hash = fragment_hash(canonical_tree(data))
    report = LoadReport()
    with transaction.atomic():
        latest = latest_version()
        before = draft_tree()
        pending_edits = latest is not None and diff_trees(latest.snapshot, before)["any"]
        last = WizardImport.objects.order_by("-created_at", "-pk").first()
        if last is not None and last.file_hash == file_hash:
            report.unchanged_file = True
        else:
            known = set(last.keys if last else [])
            _apply(data, known, report)
            WizardImport.objects.create(file_hash=file_hash, keys=sorted(known))
        if not publish:
            report.not_published_reason = "--no-publish"
        elif pending_edits:
            report.not_published_reason = "the draft has unpublished edits (publish in the admin)"
        else:
            try:
                report.published = publish_draft(note="load_wizard").number
            except PublishRefused as refused:
                if {p.kind for p in refused.problems} != {"unchanged"}:
                    report.problems = refused.problems
                    report.not_published_reason = f"{len(refused.problems)} problem(s)"
    return report


def _reference_data(data):
    from knowledge.models import Article, Category

    categories = {c.key: c for c in Category.objects.all()}
    wanted = {slug for o in data["outcomes"] for slug in o.get("articles") or []}
    articles = {a.slug: a for a in Article.objects.filter(slug__in=wanted)}
    missing_categories = {o["category"] for o in data["outcomes"]} - set(categories)
    missing_articles = wanted - set(articles)
    if missing_categories or missing_articles:
        raise WizardContentError(
            "the knowledge base is missing "
            + ", ".join(sorted(missing_categories | missing_articles))
            + " (run `python manage.py load_knowledge` first)"
        )
    return categories, articles


def _decide(key, row, current_fragment, new_hash, known, report):
    """'create', 'update' or None (leave alone), and note it in the report.

    `current_fragment`: the row as it is now, in the file's canonical form (None if no row).
    """
    outcome = content_merge.row_action(
        exists=row is not None,
        file_hash=new_hash,
        stored_hash=row.source_hash if row is not None else "",
        current_hash=lambda: fragment_hash(current_fragment),
        loaded_before=key in known,
    )
    known.add(key)
    noted = {
        content_merge.CREATED: report.created,
        content_merge.UPDATED: report.updated,
        content_merge.KEPT: report.kept_edited,
        content_merge.DELETED: report.kept_deleted,
    }
    if outcome in noted:
        noted[outcome].append(key)
    if outcome == content_merge.UNCHANGED and row.source_hash != new_hash:
        row.source_hash = new_hash
        row.save(update_fields=["source_hash"])
    return {content_merge.CREATED: "create", content_merge.UPDATED: "update"}.get(outcome)


def _private_free(item):
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _apply(data, known: set, report: LoadReport):
    from diagnosis.models import (
        WizardCause,
        WizardCodeRoute,
        WizardOption,
        WizardOutcome,
        WizardOutcomeArticle,
        WizardQuestion,
    )

    categories, articles = _reference_data(data)

    # Outcomes first: options and code routes point at them.
    current = {o["id"]: o for o in draft_outcomes()}
    rows = {o.key: o for o in WizardOutcome.objects.all()}
    for position, item in enumerate(data["outcomes"], 1):
        fragment = canonical_outcome(item)
        new_hash = fragment_hash(fragment)
        row = rows.get(fragment["id"])
        action = _decide(
            f"outcome:{fragment['id']}",
            row,
            _private_free(current[fragment["id"]]) if row is not None else None,
            new_hash,
            known,
            report,
        )
        if action is None:
            continue
        note = fragment.get("who_acts_note") or {}
        advice = fragment.get("retry_advice") or {}
        values = {
            "category": categories[fragment["category"]],
            "bank_side": fragment["bank_side"],
            "title_zh": fragment["title"].get("zh-hans", ""),
            "title_en": fragment["title"].get("en", ""),
            "summary_zh": fragment["summary"].get("zh-hans", ""),
            "summary_en": fragment["summary"].get("en", ""),
            "who_acts": fragment.get("who_acts", ""),
            "who_acts_note_zh": note.get("zh-hans", ""),
            "who_acts_note_en": note.get("en", ""),
            "retry": fragment.get("retry", ""),
            "retry_advice_zh": advice.get("zh-hans", ""),
            "retry_advice_en": advice.get("en", ""),
            "category_exceptions": fragment.get("exceptions", []),
            "source_hash": new_hash,
        }
        if row is None:
            row = WizardOutcome.objects.create(key=fragment["id"], position=position * 10, **values)
            rows[row.key] = row
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            row.causes.all().delete()
            row.article_links.all().delete()
        WizardCause.objects.bulk_create(
            WizardCause(
                outcome=row,
                position=n,
                text_zh=cause.get("zh-hans", ""),
                text_en=cause.get("en", ""),
            )
            for n, cause in enumerate(fragment["causes"], 1)
        )
        WizardOutcomeArticle.objects.bulk_create(
            WizardOutcomeArticle(outcome=row, article=articles[slug], position=n)
            for n, slug in enumerate(fragment["articles"], 1)
        )

    # Questions, then their options once every question exists.
    current = {q["id"]: q for q in draft_questions()}
    rows = {q.key: q for q in WizardQuestion.objects.all()}
    fill_options = []
    for position, item in enumerate(data["questions"], 1):
        fragment = canonical_question(item)
        new_hash = fragment_hash(fragment)
        row = rows.get(fragment["id"])
        action = _decide(
            f"question:{fragment['id']}",
            row,
            _private_free(current[fragment["id"]]) if row is not None else None,
            new_hash,
            known,
            report,
        )
        if action is None:
            continue
        help_text = fragment.get("help") or {}
        values = {
            "kind": fragment["kind"],
            "text_zh": fragment["text"].get("zh-hans", ""),
            "text_en": fragment["text"].get("en", ""),
            "help_zh": help_text.get("zh-hans", ""),
            "help_en": help_text.get("en", ""),
            "source_hash": new_hash,
        }
        if row is None:
            row = WizardQuestion.objects.create(
                key=fragment["id"], position=position * 10, **values
            )
            rows[row.key] = row
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            row.options.all().delete()
        fill_options.append((row, fragment["options"]))
    outcomes = {o.key: o for o in WizardOutcome.objects.all()}
    for row, options in fill_options:
        WizardOption.objects.bulk_create(
            WizardOption(
                question=row,
                key=option["id"],
                label_zh=option["label"].get("zh-hans", ""),
                label_en=option["label"].get("en", ""),
                next_question=rows.get(option.get("next")),
                outcome=outcomes.get(option.get("outcome")),
                position=n,
            )
            for n, option in enumerate(options, 1)
        )
    if not WizardQuestion.objects.filter(is_start=True).exists() and data["start"] in rows:
        WizardQuestion.objects.filter(pk=rows[data["start"]].pk).update(is_start=True)

    # Code routes.
    current = draft_code_routes()
    route_rows = {r.code: r for r in WizardCodeRoute.objects.all()}
    for code, route in sorted(data.get("code_routes", {}).items()):
        fragment = canonical_target(route)
        new_hash = fragment_hash(fragment)
        row = route_rows.get(code)
        action = _decide(f"code:{code}", row, current.get(code), new_hash, known, report)
        if action is None:
            continue
        values = {
            "next_question": rows.get(fragment.get("next")),
            "outcome": outcomes.get(fragment.get("outcome")),
            "source_hash": new_hash,
        }
        if row is None:
            WizardCodeRoute.objects.create(code=code, **values)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.save()

    _remove_stale(data, known, report)


def _remove_stale(data, known: set, report: LoadReport):
    """Delete what an earlier load created, the file no longer has and nobody edited since."""
    from diagnosis.models import WizardCodeRoute, WizardOutcome, WizardQuestion

    in_file = (
        {f"outcome:{o['id']}" for o in data["outcomes"]}
        | {f"question:{q['id']}" for q in data["questions"]}
        | {f"code:{code}" for code in data.get("code_routes", {})}
    )
    stale = sorted(key for key in known if key not in in_file)
    if not stale:
        return
    current = {
        "question": {q["id"]: _private_free(q) for q in draft_questions()},
        "outcome": {o["id"]: _private_free(o) for o in draft_outcomes()},
        "code": draft_code_routes(),
    }
    models = {
        "question": (WizardQuestion, "key"),
        "outcome": (WizardOutcome, "key"),
        "code": (WizardCodeRoute, "code"),
    }
    # Code routes first, then questions (their options), then outcomes.
    order = {"code": 0, "question": 1, "outcome": 2}
    for key in sorted(stale, key=lambda k: (order[k.split(":", 1)[0]], k)):
        kind, ident = key.split(":", 1)
        model, field_name = models[kind]
        row = model.objects.filter(**{field_name: ident}).first()
        if row is None:  # an editor deleted it already
            known.discard(key)
            continue
        if fragment_hash(current[kind].get(ident)) == row.source_hash:
            row.delete()
            known.discard(key)
            report.removed.append(key)
        else:
            report.kept_removed.append(key)
