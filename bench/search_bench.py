"""Search latency with 10,000 articles (a benchmark, not a test).

    .venv/bin/python bench/search_bench.py [--articles 10000] [--repeat 20]

Builds a throwaway SQLite database (a temporary file, so that the background index build
thread sees it), loads the real knowledge base, adds N generated article variations (sentences
of the real articles recombined, so the vocabulary and lengths are realistic; their search
analyses are stored with them, as saving them would), builds the search index through the
normal code path, then runs every query of tests/knowledge/search_queries.json `--repeat` times
through `knowledge.selectors.article_search` (the function the views and the API call). Prints,
per query, the median and p95 latency, and the median and p95 over all runs; also recall@3 with
the generated distractors in the index (a result matches when it is the expected code, an
article listing it, the expected article or one of its variations, or a result in the expected
category). Then an editor's save: how long a search waits (it should not), how long until the
edit is searchable, and the process's memory.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = Path(
    os.environ.get("SEARCH_BENCH_DATABASE")
    or Path(tempfile.mkdtemp(prefix="search-bench-")) / "bench.sqlite3"
)
os.environ["DATABASE_URL"] = f"sqlite:///{DATABASE}"
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production-use-000")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def memory():
    """(current, peak) resident set size of this process in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return tuple(int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))


def generate(count, seed=7):
    from knowledge.bilingual import lines
    from knowledge.loading import ARTICLE_FIELDS
    from knowledge.models import Article
    from knowledge.search import analysis

    rng = random.Random(seed)
    base = list(
        Article.objects.published()
        .select_related("category")
        .prefetch_related("codes")
        .order_by("slug")
    )
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
    # Their search analyses, as Article.save() would store them (bulk_create does not call it).
    for start in range(0, len(made), analysis.BATCH):
        batch = made[start : start + analysis.BATCH]
        items = []
        for article, _codes in batch:
            source = base[int(article.slug.rsplit("-v", 1)[1]) % len(base)]
            names = sorted(c.code for c in source.codes.all())
            fields = analysis.article_fields(article, names, source.category)
            stamp = analysis.article_stamp(names, source.category)
            items.append((fields, analysis.article_phrases(article), stamp))
        for (article, _codes), blob in zip(batch, analysis.blobs(items), strict=True):
            article.search_terms = blob
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


def worker():
    """A fresh process on the benchmark's database, like a web worker: Django and the URLs
    loaded, every query of the set searched (the index built, the segmenter loaded), then three
    editors' saves each rebuilt in the background. Prints its memory."""
    import django

    django.setup()
    import config.urls  # noqa: F401 - everything a worker imports
    from knowledge import search
    from knowledge.models import Article
    from knowledge.selectors import article_search

    queries = json.loads((ROOT / "tests/knowledge/search_queries.json").read_text("utf-8"))
    start = memory()[0]
    for item in queries:
        article_search(query=item["q"], lang=item["lang"])
    first = memory()
    cold = search.get_index().build_seconds
    search.INLINE_REBUILD_DOCS = 0  # as in production at this size: rebuild in the background
    article = Article.objects.published().order_by("pk").last()
    for _ in range(3):
        article.summary_en += " Again."
        article.save()
        article_search(query="余额不足", lang="zh-hans")  # notices the edit: a build starts
        while not search.wait_for_rebuild(0.005):  # searches go on meanwhile
            article_search(query="insufficient funds", lang="en")
        article_search(query="余额不足", lang="zh-hans")
    rebuilt = memory()
    rebuilt_in = search.get_index().build_seconds
    print(
        f"\na worker-like process (fresh, Django and URLs loaded: {start:.0f} MB): index built in"
        f" {cold:.2f} s; after the first searches RSS {first[0]:.0f} MB (peak {first[1]:.0f} MB"
        f" while building); after three background rebuilds (last {rebuilt_in:.2f} s) RSS"
        f" {rebuilt[0]:.0f} MB (peak {rebuilt[1]:.0f} MB)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quiet", action="store_true", help="summary only")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        return worker()

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
    print(
        f"generated {options.articles} articles (with their analyses) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    search.bump_version()
    started = time.perf_counter()
    jieba_tokenizer()
    print(
        f"Chinese segmenter (jieba's dictionary, compact) loaded in "
        f"{time.perf_counter() - started:.1f} s"
    )
    before = memory()[0]
    started = time.perf_counter()
    index = search.get_index()
    print(
        f"index of {len(index.docs)} documents, {len(index.terms)} terms, "
        f"built in {time.perf_counter() - started:.2f} s (cold, from the stored analyses); "
        f"arrays {index.memory_bytes() / 2**20:.0f} MB, process RSS {before:.0f} MB before, "
        f"{memory()[0]:.0f} MB after"
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
    # An editor saves one article: every process notices on its next search; this one keeps
    # answering from the old index while a background thread builds the new one.
    from knowledge.models import Article

    edited = Article.objects.published().order_by("pk").last()
    edited.summary_en += " Zanzibarish."
    started = time.perf_counter()
    edited.save()
    saved = time.perf_counter() - started
    started = time.perf_counter()
    stale = article_search(query="zanzibarish", lang="en")
    waited = time.perf_counter() - started
    search.wait_for_rebuild()
    rebuilt = time.perf_counter() - started
    fresh = article_search(query="zanzibarish", lang="en")
    assert not stale.results and [r.key for r in fresh.results] == [edited.slug], fresh
    rss, peak = memory()
    print(
        f"\nediting one article: save {saved * 1000:.0f} ms (analysis included); the next search "
        f"waited {waited * 1000:.1f} ms (old index), the edit was searchable after "
        f"{rebuilt:.2f} s (background build {search.get_index().build_seconds:.2f} s)"
        f"\nthis process: RSS {rss:.0f} MB, peak {peak:.0f} MB (it also generated the articles; "
        f"see the worker-like process below)"
        f"\n{len(queries)} queries x {options.repeat} runs over {len(index.docs)} documents:\n"
        f"  per-query median latency: median {statistics.median(medians):.2f} ms, "
        f"p95 {percentile(medians, 0.95):.2f} ms, max {max(medians):.2f} ms\n"
        f"  all runs: median {statistics.median(everything):.2f} ms, "
        f"p95 {percentile(everything, 0.95):.2f} ms (target p95 < 20 ms)\n"
        f"  recall@3 with {options.articles} distractors: {found}/{len(queries)} "
        f"= {found / len(queries):.3f}"
    )
    from django.db import connections

    connections.close_all()
    subprocess.run(
        [sys.executable, __file__, "--worker"],
        env={**os.environ, "SEARCH_BENCH_DATABASE": str(DATABASE)},
        check=True,
    )
    shutil.rmtree(DATABASE.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
