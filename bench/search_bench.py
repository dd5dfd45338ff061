"""Search latency with 10,000 articles (a benchmark, not a test).

    .venv/bin/python bench/search_bench.py [--articles 10000] [--repeat 20]

Builds a throwaway in-memory SQLite database, loads the real knowledge base, adds N generated
article variations (sentences of the real articles recombined, so the vocabulary and lengths are
realistic), builds the search index through the normal code path, then runs every query of
tests/knowledge/search_queries.json `--repeat` times through `knowledge.selectors.article_search`
(the function the views and the API call). Prints, per query, the median and p95 latency, and the
median and p95 over all runs; also recall@3 with the generated distractors in the index (a result
matches when it is the expected code, an article listing it, the expected article or one of its
variations, or a result in the expected category).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-use-000")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def generate(count, seed=7):
    from knowledge.bilingual import lines
    from knowledge.loading import ARTICLE_FIELDS
    from knowledge.models import Article

    rng = random.Random(seed)
    base = list(Article.objects.published().prefetch_related("codes").order_by("slug"))
    sentences = {"zh": [], "en": []}
    for article in base:
        for suffix in sentences:
            for name in ("symptoms", "cause"):
                text = getattr(article, f"{name}_{suffix}")
                sentences[suffix].extend(s for s in text.replace("\n", " ").split("。") if s)
    made = []
    for number in range(count):
        source = base[number % len(base)]
        other = base[rng.randrange(len(base))]
        values = {}
        for name in ARTICLE_FIELDS:
            for suffix in ("zh", "en"):
                text = getattr(source, f"{name}_{suffix}")
                if name in ("merchant_steps", "cardholder_steps", "prevention", "keywords"):
                    items = lines(text)
                    rng.shuffle(items)
                    items += rng.sample(lines(getattr(other, f"{name}_{suffix}")), k=1)
                    text = "\n".join(items)
                elif name in ("symptoms", "cause"):
                    extra = "。".join(rng.sample(sentences[suffix], k=3))
                    text = f"{text}\n\n{extra}"
                elif name == "title":
                    text = f"{text} #{number}"
                values[f"{name}_{suffix}"] = text
        made.append(
            (
                Article(
                    slug=f"{source.slug}-v{number}",
                    category_id=source.category_id,
                    status=Article.Status.PUBLISHED,
                    **values,
                ),
                [c.pk for c in source.codes.all()],
            )
        )
    Article.objects.bulk_create([a for a, _ in made], batch_size=500)
    through = Article.codes.through
    created = {a.slug: a.pk for a in Article.objects.filter(slug__contains="-v")}
    links = [
        through(article_id=created[a.slug], responsecode_id=code)
        for a, codes in made
        for code in codes
    ]
    through.objects.bulk_create(links, batch_size=2000)


def matches(result, expect):
    ((kind, value),) = expect.items()
    if kind == "code":
        return value in result.response_codes
    if kind == "article":
        return result.kind == "article" and (
            result.key == value or result.key.rsplit("-v", 1)[0] == value
        )
    return result.category == value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quiet", action="store_true", help="summary only")
    options = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from knowledge import search
    from knowledge.search.text import jieba_tokenizer
    from knowledge.selectors import article_search

    call_command("migrate", verbosity=0)
    call_command("load_knowledge", verbosity=0)
    started = time.perf_counter()
    generate(options.articles)
    print(f"generated {options.articles} articles in {time.perf_counter() - started:.1f} s")
    search.bump_version()
    started = time.perf_counter()
    jieba_tokenizer()
    print(f"jieba initialised in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    index = search.get_index()
    print(
        f"index of {len(index.docs)} documents, {len(index.postings)} terms, "
        f"built in {time.perf_counter() - started:.1f} s"
    )

    queries = json.loads((ROOT / "tests/knowledge/search_queries.json").read_text("utf-8"))
    for item in queries:  # warm-up (typo tables are built on first use)
        article_search(query=item["q"], lang=item["lang"])
    everything, medians, found = [], [], 0
    rows = []
    for item in queries:
        timings = []
        for _ in range(options.repeat):
            started = time.perf_counter()
            outcome = article_search(query=item["q"], lang=item["lang"])
            timings.append((time.perf_counter() - started) * 1000)
        everything.extend(timings)
        medians.append(statistics.median(timings))
        hit = any(matches(r, item["expect"]) for r in outcome.results[:3])
        found += hit
        rows.append((item["q"], statistics.median(timings), percentile(timings, 0.95), hit))
    if not options.quiet:
        print(f"\n{'median ms':>9} {'p95 ms':>7}  top3  query")
        for query, median, p95, hit in rows:
            print(f"{median:9.2f} {p95:7.2f}  {'yes' if hit else 'NO ':4}  {query}")
    # An editor saves one article: every process rebuilds on its next search, re-reading only
    # the changed document (the others' analysis is remembered).
    from knowledge.models import Article

    edited = Article.objects.published().order_by("pk").last()
    edited.summary_en += " Edited."
    edited.save()
    started = time.perf_counter()
    search.get_index()
    rebuild = time.perf_counter() - started
    print(
        f"\nrebuild after one edit: {rebuild:.1f} s"
        f"\n{len(queries)} queries x {options.repeat} runs over {len(index.docs)} documents:\n"
        f"  per-query median latency: median {statistics.median(medians):.2f} ms, "
        f"p95 {percentile(medians, 0.95):.2f} ms, max {max(medians):.2f} ms\n"
        f"  all runs: median {statistics.median(everything):.2f} ms, "
        f"p95 {percentile(everything, 0.95):.2f} ms (target p95 < 20 ms)\n"
        f"  recall@3 with {options.articles} distractors: {found}/{len(queries)} "
        f"= {found / len(queries):.3f}"
    )


if __name__ == "__main__":
    main()
