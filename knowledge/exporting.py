"""`manage.py export_knowledge`: the published content written back to knowledge/content/ in
the format knowledge/loading.py reads, so editors' improvements can flow into the repository
and into new installations (export, then load: nothing changes)."""

import json
from pathlib import Path

from knowledge.bilingual import lines
from knowledge.loading import (
    ARTICLE_LIST_FIELDS,
    ARTICLE_TEXT_FIELDS,
    CATEGORY_FIELDS,
    CODE_LIST_FIELDS,
    CODE_TEXT_FIELDS,
    CONTENT_DIR,
    LANG_KEYS,
)


def _texts(obj, names, *, as_lines=()) -> dict:
    """{"name": {"zh-hans": …, "en": …}} as the code and category files hold them."""
    out = {}
    for name in names:
        out[name] = {}
        for suffix, lang in LANG_KEYS.items():
            value = getattr(obj, f"{name}_{suffix}")
            out[name][lang] = lines(value) if name in as_lines else value
    return out


def category_entry(category) -> dict:
    return {
        "key": category.key,
        "is_decline": category.is_decline,
        **_texts(category, CATEGORY_FIELDS),
    }


def code_entry(code) -> dict:
    return {
        "code": code.code,
        "category": code.category.key,
        "who_acts": code.who_acts,
        "retry": code.retry,
        "vague": code.vague,
        **_texts(code, CODE_TEXT_FIELDS + CODE_LIST_FIELDS, as_lines=CODE_LIST_FIELDS),
    }


def article_entry(article, published_slugs) -> dict:
    entry = {
        "slug": article.slug,
        "category": article.category.key,
        "codes": sorted(c.code for c in article.codes.all()),
        "related": [a.slug for a in article.related.all() if a.slug in published_slugs],
    }
    for suffix, lang in LANG_KEYS.items():
        entry[lang] = {}
        for name in ARTICLE_TEXT_FIELDS + ARTICLE_LIST_FIELDS:
            value = getattr(article, f"{name}_{suffix}")
            entry[lang][name] = lines(value) if name in ARTICLE_LIST_FIELDS else value
    return entry


def _write(path: Path, data) -> bool:
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def export_content(directory: Path = CONTENT_DIR) -> dict:
    """Write categories, codes, published articles and synonym groups; article files of
    articles that are no longer published are removed. Returns counts per kind."""
    from knowledge.models import Article, Category, ResponseCode, SynonymGroup

    directory = Path(directory)
    (directory / "articles").mkdir(parents=True, exist_ok=True)
    changed = 0
    categories = [category_entry(c) for c in Category.objects.order_by("position", "key")]
    changed += _write(directory / "categories.json", categories)
    codes = [code_entry(c) for c in ResponseCode.objects.select_related("category")]
    changed += _write(directory / "codes.json", codes)
    articles = list(
        Article.objects.published()
        .select_related("category")
        .prefetch_related("codes", "related")
        .order_by("slug")
    )
    slugs = {article.slug for article in articles}
    for article in articles:
        changed += _write(
            directory / "articles" / f"{article.slug}.json", article_entry(article, slugs)
        )
    removed = 0
    for path in (directory / "articles").glob("*.json"):
        if path.stem not in slugs:
            path.unlink()
            removed += 1
    synonyms = [
        {"key": g.key, "lang": g.lang, "phrases": lines(g.phrases)}
        for g in SynonymGroup.objects.order_by("lang", "key")
    ]
    changed += _write(directory / "synonyms.json", synonyms)
    return {
        "categories": len(categories),
        "codes": len(codes),
        "articles": len(articles),
        "synonyms": len(synonyms),
        "files_changed": changed,
        "articles_removed": removed,
    }
