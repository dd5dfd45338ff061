"""Data builders for the knowledge tests."""

import itertools
import string

from knowledge.models import Article, Category, ResponseCode

_seq = itertools.count(1)


def article(*, category=None, status=Article.Status.PUBLISHED, codes=(), **fields) -> Article:
    n = next(_seq)
    category = category or Category.objects.get(key="terminal")
    defaults = {
        "slug": f"test-article-{n}",
        "title_zh": f"测试文章 {n}",
        "title_en": f"Test article {n}",
        "summary_zh": "测试摘要。",
        "summary_en": "A test summary.",
        "symptoms_zh": "- 现象",
        "symptoms_en": "- symptom",
        "merchant_steps_zh": "第一步\n第二步",
        "merchant_steps_en": "Step one\nStep two",
    }
    created = Article.objects.create(category=category, status=status, **{**defaults, **fields})
    if codes:
        created.codes.set(ResponseCode.objects.filter(code__in=codes))
    return created


def unused_codes():
    used = set(ResponseCode.objects.values_list("code", flat=True))
    for first in "BCDEFGHJKLMNPQRSTUVWXYZ":
        for second in string.digits:
            if first + second not in used:
                yield first + second


def grow(*, articles=25, codes=25):
    """Many more published articles (linked to codes and to each other) and codes."""
    category = Category.objects.get(key="terminal")
    new_codes = []
    for code in itertools.islice(unused_codes(), codes):
        new_codes.append(
            ResponseCode.objects.create(
                code=code,
                category=category,
                who_acts="merchant",
                retry="later",
                meaning_zh=f"测试应答码 {code}",
                meaning_en=f"Test code {code}",
                explanation_zh="解释",
                explanation_en="Explanation",
                merchant_steps_zh="一\n二",
                merchant_steps_en="One\nTwo",
                lookups=5,
            )
        )
    made = []
    for index in range(articles):
        created = article(category=category)
        created.codes.set(
            [
                *new_codes[index % max(1, len(new_codes)) :][:2],
                *ResponseCode.objects.filter(code__in=["A0", "51"]),
            ]
        )
        if made:
            created.related.set(made[-3:])
        made.append(created)
    for target in Article.objects.filter(slug__in=["insufficient-balance", "mac-key-error"]):
        target.related.add(*made[:10])
    for code in ResponseCode.objects.filter(code__in=["51", "A0"]):
        code.articles.add(*made[:10])
    return made
