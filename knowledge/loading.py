"""Load the knowledge base from knowledge/content/*.json without overwriting editors' work.

Every loaded record keeps `source_hash`: the hash of the content it was last loaded with; whether
a record is created, updated or left alone is the rule of config/content_merge.py (the same as
the wizard loader's): an editor's change always wins over the file.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Q

from config import content_merge
from knowledge import signals
from knowledge.bilingual import lines
from knowledge.search import analysis as search_analysis

CONTENT_DIR = Path(__file__).resolve().parent / "content"
LANG_KEYS = {"zh": "zh-hans", "en": "en"}

CATEGORY_FIELDS = ["name", "description"]
CODE_TEXT_FIELDS = ["meaning", "explanation", "say_to_customer", "retry_advice"]
CODE_LIST_FIELDS = ["merchant_steps", "keywords"]
ARTICLE_TEXT_FIELDS = ["title", "summary", "symptoms", "cause", "customer_script"]
ARTICLE_LIST_FIELDS = ["merchant_steps", "cardholder_steps", "prevention", "keywords"]
ARTICLE_FIELDS = ARTICLE_TEXT_FIELDS + ARTICLE_LIST_FIELDS


class ContentError(ValueError):
    pass


def _clean(value):
    if isinstance(value, str):
        return "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").split("\n")).strip()
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def digest(values: dict) -> str:
    payload = json.dumps(_clean(values), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _bilingual(entry, name, *, as_lines=False, source=None):
    values = {}
    for suffix, lang in LANG_KEYS.items():
        if source is not None:  # article files: {"zh-hans": {...}, "en": {...}}
            value = entry[lang].get(name, [] if as_lines else "")
        else:  # code and category files: {"meaning": {"zh-hans": …, "en": …}}
            value = entry[name].get(lang, [] if as_lines else "")
        values[f"{name}_{suffix}"] = "\n".join(lines("\n".join(value))) if as_lines else value
    return values


# --- values as they come from the files ------------------------------------------------------
def category_values(entry, position) -> dict:
    values = {"position": position, "is_decline": bool(entry.get("is_decline", True))}
    for name in CATEGORY_FIELDS:
        values.update(_bilingual(entry, name))
    return values


def code_values(entry) -> dict:
    values = {
        "category": entry["category"],
        "who_acts": entry["who_acts"],
        "retry": entry["retry"],
        "vague": bool(entry.get("vague", False)),
    }
    for name in CODE_TEXT_FIELDS:
        values.update(_bilingual(entry, name))
    for name in CODE_LIST_FIELDS:
        values.update(_bilingual(entry, name, as_lines=True))
    return values


def article_values(entry) -> dict:
    values = {
        "category": entry["category"],
        "status": "published",
        "codes": sorted(entry.get("codes", [])),
        "related": sorted(entry.get("related", [])),
    }
    for name in ARTICLE_TEXT_FIELDS:
        values.update(_bilingual(entry, name, source="article"))
    for name in ARTICLE_LIST_FIELDS:
        values.update(_bilingual(entry, name, as_lines=True, source="article"))
    return values


# --- the same values read back from the database ---------------------------------------------
def _model_values(obj, names, extra):
    values = dict(extra)
    for name in names:
        for suffix in LANG_KEYS:
            values[f"{name}_{suffix}"] = getattr(obj, f"{name}_{suffix}")
    return values


def category_db_values(category) -> dict:
    return _model_values(
        category,
        CATEGORY_FIELDS,
        {"position": category.position, "is_decline": category.is_decline},
    )


def code_db_values(code) -> dict:
    extra = {
        "category": code.category.key,
        "who_acts": code.who_acts,
        "retry": code.retry,
        "vague": code.vague,
    }
    return _model_values(code, CODE_TEXT_FIELDS + CODE_LIST_FIELDS, extra)


def article_snapshot(article) -> dict:
    """Everything an editor can change on an article (also the revision snapshot)."""
    extra = {
        "slug": article.slug,
        "category": article.category.key,
        "status": article.status,
        "codes": sorted(c.code for c in article.codes.all()),
        "related": sorted(a.slug for a in article.related.all()),
    }
    return _model_values(article, ARTICLE_FIELDS, extra)


def article_db_values(article) -> dict:
    values = article_snapshot(article)
    values.pop("slug")
    return values


# --- reading and checking the files ----------------------------------------------------------
def read_content(directory: Path = CONTENT_DIR):
    categories = json.loads((directory / "categories.json").read_text(encoding="utf-8"))
    codes = json.loads((directory / "codes.json").read_text(encoding="utf-8"))
    articles = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((directory / "articles").glob("*.json"))
    ]
    check_content(categories, codes, articles)
    return categories, codes, articles


def check_content(categories, codes, articles):
    problems = []
    category_keys = {c["key"] for c in categories}
    code_keys = {c["code"] for c in codes}
    slugs = {a["slug"] for a in articles}
    if len(code_keys) != len(codes):
        problems.append("duplicate response codes")
    if len(slugs) != len(articles):
        problems.append("duplicate article slugs")
    for code in codes:
        if code["category"] not in category_keys:
            problems.append(f"code {code['code']}: unknown category {code['category']}")
    for article in articles:
        slug = article["slug"]
        if article["category"] not in category_keys:
            problems.append(f"article {slug}: unknown category {article['category']}")
        for code in article.get("codes", []):
            if code not in code_keys:
                problems.append(f"article {slug}: unknown code {code}")
        for other in article.get("related", []):
            if other not in slugs:
                problems.append(f"article {slug}: unknown related article {other}")
        for lang in LANG_KEYS.values():
            for name in ("title", "summary", "merchant_steps"):
                if not article.get(lang, {}).get(name):
                    problems.append(f"article {slug}: {lang} {name} missing")
    if problems:
        raise ContentError("; ".join(problems))


# --- loading ---------------------------------------------------------------------------------
@dataclass
class LoadReport:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # edited by an editor since loaded: left alone

    def add(self, outcome, label):
        getattr(self, outcome).append(label)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.kept)} kept (edited by an editor)"
        )


def _decide(obj, file_hash, db_values_of) -> str:
    """ "created", "unchanged", "updated" or "kept" (content_merge.row_action)."""
    outcome = content_merge.row_action(
        exists=obj is not None,
        file_hash=file_hash,
        stored_hash=obj.source_hash if obj is not None else "",
        current_hash=lambda: digest(db_values_of(obj)),
    )
    if outcome == content_merge.UNCHANGED and obj.source_hash != file_hash:
        # It already says what the file says (an editor made the same change): adopt the hash,
        # without a save() and its signals.
        type(obj).objects.filter(pk=obj.pk).update(source_hash=file_hash)
        obj.source_hash = file_hash
    return outcome


def _apply(obj, values, skip=()):
    for name, value in values.items():
        if name not in skip:
            setattr(obj, name, value)


@transaction.atomic
def load_content(directory: Path = CONTENT_DIR) -> dict:
    """Load the content files; new records are bulk-inserted, unedited ones updated."""
    from knowledge.models import Article, ArticleRevision, Category, ResponseCode

    categories, codes, articles = read_content(directory)
    reports = {"categories": LoadReport(), "codes": LoadReport(), "articles": LoadReport()}
    with signals.search_bumps_deferred():
        existing = {c.key: c for c in Category.objects.all()}
        new, renamed = [], []
        for position, entry in enumerate(categories):
            values = category_values(entry, position)
            file_hash = digest(values)
            category = existing.get(entry["key"])
            outcome = _decide(category, file_hash, category_db_values)
            if outcome in ("created", "updated"):
                category = category or Category(key=entry["key"])
                names = (category.name_zh, category.name_en)
                _apply(category, values)
                category.source_hash = file_hash
                if outcome == "created":
                    new.append(category)
                else:
                    category.save()
                    if names != (category.name_zh, category.name_en):  # in every analysis
                        renamed.append(category.key)
            reports["categories"].add(outcome, entry["key"])
        Category.objects.bulk_create(new)
        existing = {c.key: c for c in Category.objects.all()}

        existing_codes = {c.code: c for c in ResponseCode.objects.select_related("category")}
        new = []
        for entry in codes:
            values = code_values(entry)
            file_hash = digest(values)
            code = existing_codes.get(entry["code"])
            outcome = _decide(code, file_hash, code_db_values)
            if outcome in ("created", "updated"):
                code = code or ResponseCode(code=entry["code"].strip().upper())
                _apply(code, values, skip={"category"})
                code.category = existing[values["category"]]
                code.source_hash = file_hash
                if outcome == "created":
                    new.append(code)
                else:
                    code.save()
            reports["codes"].add(outcome, entry["code"])
        ResponseCode.objects.bulk_create(new)
        new_codes = [code.code for code in new]
        existing_codes = {c.code: c for c in ResponseCode.objects.all()}

        current = {
            a.slug: a
            for a in Article.objects.select_related("category").prefetch_related("codes", "related")
        }
        created, updated = [], []
        for entry in articles:
            values = article_values(entry)
            file_hash = digest(values)
            article = current.get(entry["slug"])
            outcome = _decide(article, file_hash, article_db_values)
            if outcome in ("created", "updated"):
                before = article_snapshot(article) if article else {}
                article = article or Article(slug=entry["slug"])
                _apply(article, values, skip={"category", "codes", "related"})
                article.category = existing[values["category"]]
                article.source_hash = file_hash
                if outcome == "created":
                    created.append((article, values))
                else:
                    article.save()
                    updated.append((article, values, before))
            reports["articles"].add(outcome, entry["slug"])
        Article.objects.bulk_create([article for article, _values in created])
        slugs = {a.slug: a.pk for a in Article.objects.only("pk", "slug")}
        code_links, related_links, revisions = [], [], []
        codes_through, related_through = Article.codes.through, Article.related.through
        for article, values in created:
            article.pk = article.pk or slugs[article.slug]
            code_links.extend(
                codes_through(article_id=article.pk, responsecode_id=existing_codes[c].pk)
                for c in values["codes"]
            )
            related_links.extend(
                related_through(from_article_id=article.pk, to_article_id=slugs[s])
                for s in values["related"]
            )
            snapshot = {"slug": article.slug, **values}
            revisions.append(
                ArticleRevision(article=article, changed_fields=sorted(snapshot), data=snapshot)
            )
        codes_through.objects.bulk_create(code_links)
        related_through.objects.bulk_create(related_links)
        for article, values, before in updated:
            article.codes.set([existing_codes[c] for c in values["codes"]])
            article.related.set([slugs[s] for s in values["related"]])
            after = {"slug": article.slug, **values}
            changed = sorted(k for k in after if before.get(k) != after[k])
            revisions.append(ArticleRevision(article=article, changed_fields=changed, data=after))
        ArticleRevision.objects.bulk_create(revisions)
        # Search analyses: saved rows have theirs; bulk-created ones and those whose category
        # changed get them here.
        if new_codes or created or renamed:
            in_renamed = Q(category__key__in=renamed)
            new_slugs = [article.slug for article, _values in created]
            search_analysis.refresh(
                codes=ResponseCode.objects.filter(Q(code__in=new_codes) | in_renamed),
                articles=Article.objects.filter(Q(slug__in=new_slugs) | in_renamed),
            )
        reports["synonyms"] = load_synonyms(directory / "synonyms.json")
        from knowledge import review

        review.fill_missing_review_dates()  # bulk-inserted rows get their "review by" date
    return reports


def synonym_values(entry) -> dict:
    from knowledge.bilingual import clean_phrases

    return {"lang": entry["lang"], "phrases": "\n".join(clean_phrases(entry["phrases"]))}


def synonym_db_values(group) -> dict:
    return {"lang": group.lang, "phrases": group.phrases}


def load_synonyms(path: Path) -> "LoadReport":
    """The synonym groups of the content file; editors' changes kept (config/content_merge.py).

    Runs inside load_content's deferred search bump: one rebuild for the whole load."""
    from knowledge.models import SynonymGroup
    from knowledge.search.synonyms import read_groups

    report = LoadReport()
    existing = {g.key: g for g in SynonymGroup.objects.all()}
    new = []
    for entry in read_groups(path):
        values = synonym_values(entry)
        file_hash = digest(values)
        group = existing.get(entry["key"])
        stored = bytes(group.source_hash or b"").decode() if group is not None else ""
        outcome = content_merge.row_action(
            exists=group is not None,
            file_hash=file_hash,
            stored_hash=stored,
            current_hash=lambda group=group: digest(synonym_db_values(group)),
        )
        if outcome == content_merge.UNCHANGED and stored != file_hash:
            SynonymGroup.objects.filter(pk=group.pk).update(source_hash=file_hash.encode())
        if outcome in ("created", "updated"):
            group = group or SynonymGroup(key=entry["key"])
            _apply(group, values)
            group.source_hash = file_hash.encode()
            if outcome == "created":
                new.append(group)
            else:
                group.save()
        report.add(outcome, entry["key"])
    SynonymGroup.objects.bulk_create(new)
    return report
