"""Knowledge search: an in-memory index per process, built once per content version.

The index is built from the analyses stored with every article and response code
(knowledge.search.analysis), so building does no tokenising: about 2 s for 10,000 articles, a few
hundredths for the real content. Processes agree on the content version through a token in the
shared Django cache: saving or deleting an article, code or category replaces it (signals), and
every search compares it with the one its index was built from — one cache read per search.

One build per edit for the whole deployment: the edit enqueues a background task
(knowledge/search/tasks.py) that builds the index once and stores it in the database
(knowledge/search/artefact.py). A process that finds the token changed:
- loads that version's stored index when it is there (copied once per machine to a file and
  memory-mapped: no tokenising, no building, the arrays shared by the machine's processes), or
  keeps its own when the stored one has the same content (a new token for unchanged content:
  the cache lost its version counter, e.g. Redis restarted empty);
- otherwise keeps answering from the index it has and looks again at most every POLL_SECONDS;
- a process without any index loads the newest stored one (and then the current one when it
  appears), and builds one itself only when none is stored at all;
- an index of at most INLINE_REBUILD_DOCS documents is rebuilt in the process before answering
  (a fraction of a second: the edit shows in that very search) and stored for the others;
- if no stored index appears for SELF_BUILD_SECONDS (no worker running), a background thread
  builds it in the process, as a fallback. `wait_for_rebuild()` waits for that (tests).
"""

import contextlib
import ctypes
import functools
import logging
import threading
import time
import weakref
from collections import defaultdict
from itertools import islice

from django.core.cache import cache
from django.db import DatabaseError, connections, transaction

from config import cache_backends, versions
from knowledge.search import analysis
from knowledge.search.index import Document, IndexBuilder, Results, SearchIndex  # noqa: F401

VERSION_KEY = "knowledge:search:version"
INLINE_REBUILD_DOCS = 2_000
POLL_SECONDS = 2.0  # how often a process with an old index looks for the new stored one
SELF_BUILD_SECONDS = 120.0  # no stored index after this long: the process builds it itself
RETRY_SECONDS = 10  # after a failed background build, the old index answers this long at least
M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter number

logger = logging.getLogger(__name__)
_build_lock = threading.Lock()  # one build or load at a time per process
_state_lock = threading.Lock()
_state = {
    "index": None,
    "builder": None,
    "epoch": 0,
    "failed_at": None,
    "polled": (None, 0.0),  # (token, monotonic time) of the last look for a stored index
    "stale_since": (None, 0.0),  # (token, monotonic time) since when the index is out of date
}


def bump_version(**kwargs):
    """Mark the index stale in every process (now, and again once the transaction commits),
    and have it rebuilt once, by a worker, after the commit."""
    versions.bump(VERSION_KEY)
    transaction.on_commit(request_rebuild, robust=True)


def request_rebuild():
    """Enqueue one rebuild for the current version (several edits in a row: one task)."""
    from knowledge.search.tasks import rebuild_search_index

    token = current_version()
    with cache_backends.watch() as seen:
        first = cache.add(f"knowledge:search:rebuild-queued:{token}", 1, 300)
    if first or seen.failed:  # (the cache does not answer: the task is idempotent)
        rebuild_search_index.enqueue()


def current_version() -> str:
    return versions.current(VERSION_KEY)


def get_index() -> SearchIndex:
    token = current_version()
    index = _state["index"]
    if index is not None and (index.token == token or token == versions.UNKNOWN):
        return index  # (an unknown version: the cache does not answer; keep the index we have)
    return _switch(token, index)


def _switch(token, index) -> SearchIndex:
    from knowledge.search import artefact

    now = time.monotonic()
    polled_token, polled_at = _state["polled"]
    if index is not None and polled_token == token and now - polled_at < POLL_SECONDS:
        return _stale(token, index, now)
    _state["polled"] = (token, now)
    with _build_lock:
        current = _state["index"]
        if current is not None and current.token == token:
            return current
        epoch = _state["epoch"]
        shared = _fetch(token, current)
        if shared is None and current is None:
            latest = _safe(artefact.latest_token)
            shared = _fetch(latest) if latest else None
        if shared is not None:
            if shared is not current:  # (the same content under a new token: nothing to do)
                _install(shared, epoch)
            return shared
    if index is None or len(index.docs) <= INLINE_REBUILD_DOCS:
        return _build_now()
    return _stale(token, index, now)


def _stale(token, index, now) -> SearchIndex:
    stale_token, since = _state["stale_since"]
    if stale_token != token:
        _state["stale_since"] = (token, now)
    elif now - since >= SELF_BUILD_SECONDS:
        _start_background_build()
    return index


def _safe(function, *args):
    try:
        with transaction.atomic():
            return function(*args)
    except (DatabaseError, OSError, ValueError):
        logger.exception("Search index: could not read the stored index")
        return None


def _fetch(token, current=None):
    from knowledge.search import artefact

    _allocate_large_blocks_apart()  # (a web worker may map indexes without ever building one)
    return _safe(artefact.fetch, token, current)


def publish(index):
    """Store a built index for the other processes (best effort: they can build their own)."""
    from knowledge.search import artefact

    try:
        with transaction.atomic():
            return artefact.publish(index)
    except DatabaseError:
        logger.exception("Search index: could not store the built index")
        return 0


def set_index(index: SearchIndex | None):
    """Install a prepared index (benchmarks) or drop the current one (None); a background
    build that is still running will not install its result."""
    with _state_lock:
        _state["epoch"] += 1
        _state["index"] = index
        _state["failed_at"] = None
        _state["polled"] = (None, 0.0)
        _state["stale_since"] = (None, 0.0)


def wait_for_rebuild(timeout: float | None = None) -> bool:
    """Wait for the background build of this process, if any; True when none is running."""
    builder = _state["builder"]
    if builder is not None:
        builder.join(timeout)
        return not builder.is_alive()
    return True


def _install(index, epoch):
    with _state_lock:
        if _state["epoch"] != epoch:
            return
        previous, _state["index"] = _state["index"], index
    if previous is not None:  # once the last search using it is done, give its memory back
        weakref.finalize(previous, _release_free_memory)


def _build_now() -> SearchIndex:
    with _build_lock:
        epoch = _state["epoch"]
        token = current_version()
        index = _state["index"]
        if index is None or index.token != token:
            index = load_index(token)
            _install(index, epoch)
            publish(index)
    return index


def build_and_publish(token=None) -> SearchIndex | None:
    """The rebuild task: build the current version once and store it; None when it is stored
    already (another task, or a process that rebuilt a small index, was first)."""
    from knowledge.search import artefact

    token = token or current_version()
    if artefact.exists(token):
        return None
    index = load_index(token)
    publish(index)
    return index


def _start_background_build():
    with _state_lock:
        builder = _state["builder"]
        if builder is not None and builder.is_alive():
            return
        failed_at = _state["failed_at"]
        if failed_at is not None and time.monotonic() - failed_at < RETRY_SECONDS:
            return
        builder = threading.Thread(
            target=_background_build,
            args=(_state["epoch"],),
            name="knowledge-search-build",
            daemon=True,
        )
        _state["builder"] = builder
    builder.start()


def _background_build(epoch):
    try:
        with _build_lock:
            index = load_index(current_version())
        _install(index, epoch)
        publish(index)
        _state["failed_at"] = None
    except Exception:
        logger.exception("Rebuilding the search index failed; the previous one keeps answering")
        _state["failed_at"] = time.monotonic()
    finally:
        connections.close_all()  # this thread's connections only


# --- building from the database --------------------------------------------------------------
def load_index(token=None) -> SearchIndex:
    """The index of every response code and published article, from their stored analyses
    and the synonym groups (six queries). A missing or stale analysis is made again and stored
    (a few more)."""
    from knowledge.models import Article, Category, ResponseCode, SearchTerm, SynonymGroup
    from knowledge.search import analysis as A
    from knowledge.search.index import SynonymTable

    _allocate_large_blocks_apart()
    started = time.perf_counter()
    categories = {c.pk: c for c in Category.objects.all()}
    names = {pk: {"zh": c.name_zh, "en": c.name_en} for pk, c in categories.items()}
    builder = IndexBuilder()
    stale = []  # (document number, model, pk, updated_at)

    def add(number, blob, stamp, row):
        decoded = A.decode(blob)
        if decoded is None or decoded.stamp != stamp:
            stale.append((number, *row))
        else:
            builder.add_decoded(number, decoded)

    code_stamps = {pk: A.code_stamp(c) for pk, c in categories.items()}
    rows = ResponseCode.objects.order_by("code").values_list(
        "pk", "code", "category_id", "meaning_zh", "meaning_en", "explanation_zh",
        "explanation_en", "search_terms", "updated_at",
    )  # fmt: skip
    for pk, code, category_id, meaning_zh, meaning_en, summary_zh, summary_en, blob, at in rows:
        category = categories[category_id]
        document = Document(
            kind="code",
            key=code,
            category=category.key,
            category_name=names[category_id],
            codes=(code,),
            title={"zh": f"{code} · {meaning_zh}", "en": f"{code} · {meaning_en}"},
            summary={"zh": summary_zh, "en": summary_en},
            boost=1.0 if category.is_decline else 0.85,
        )
        add(builder.add_document(document), blob, code_stamps[category_id], (ResponseCode, pk, at))

    published = Article.objects.published()
    codes_of = defaultdict(list)
    links = Article.codes.through.objects.filter(article__in=published)
    for article_id, code in links.values_list("article_id", "responsecode__code"):
        codes_of[article_id].append(code)
    stamps = {}
    rows = published.order_by("pk").values_list(
        "pk", "slug", "category_id", "title_zh", "title_en", "summary_zh", "summary_en",
        "search_terms", "updated_at",
    )  # fmt: skip
    for (
        pk,
        slug,
        category_id,
        title_zh,
        title_en,
        summary_zh,
        summary_en,
        blob,
        at,
    ) in rows.iterator(chunk_size=1000):
        category = categories[category_id]
        codes = tuple(sorted(codes_of.get(pk, ())))
        stamp = stamps.get((codes, category_id))
        if stamp is None:
            stamp = stamps[codes, category_id] = A.article_stamp(codes, category)
        document = Document(
            kind="article",
            key=slug,
            category=category.key,
            category_name=names[category_id],
            codes=codes,
            title={"zh": title_zh, "en": title_en},
            summary={"zh": summary_zh, "en": summary_en},
        )
        add(builder.add_document(document), blob, stamp, (Article, pk, at))
    if stale:
        _analyse_again(builder, stale)
    # Only now the vocabulary: it holds every term of the analyses read above.
    texts = dict(SearchTerm.objects.values_list("pk", "text"))
    index = builder.finish(texts, token)  # it lets go of its buffers
    groups = SynonymGroup.objects.groups()  # the editors' synonyms travel with the index
    index.synonym_table = SynonymTable(groups) if groups else None
    del texts
    _release_free_memory()
    index.build_seconds = time.perf_counter() - started
    return index


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl): the defaults will do
        return None


def _release_free_memory():
    """Give the building's scratch memory back to the system (glibc keeps freed memory for
    reuse otherwise, and a worker's resident size would stay at its peak)."""
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)


@functools.cache
def _allocate_large_blocks_apart():
    """Every block of 128 KiB or more gets its own mapping, returned to the system when freed.

    glibc raises that threshold after the first large block is freed (up to 32 MiB), after
    which the index's arrays would be carved from the heap and, interleaved with the next
    build's scratch memory, keep a worker's resident size growing with each rebuild. The same
    as MALLOC_MMAP_THRESHOLD_=131072 in the environment; once per process.
    """
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)


def _document(kind, key, category, **texts) -> Document:
    names = {"zh": category.name_zh, "en": category.name_en}
    return Document(kind=kind, key=key, category=category.key, category_name=names, **texts)


def code_document(code) -> Document:
    """A response code as a search document with its texts; its category must be loaded."""
    category = code.category
    return _document(
        "code",
        code.code,
        category,
        codes=(code.code,),
        title={"zh": f"{code.code} · {code.meaning_zh}", "en": f"{code.code} · {code.meaning_en}"},
        summary={"zh": code.explanation_zh, "en": code.explanation_en},
        fields=analysis.code_fields(code, category),
        phrases=analysis.code_phrases(code),
        boost=1.0 if category.is_decline else 0.85,
    )


def article_document(article) -> Document:
    """An article as a search document with its texts; category and codes should be loaded."""
    codes = tuple(sorted(code.code for code in article.codes.all()))
    return _document(
        "article",
        article.slug,
        article.category,
        codes=codes,
        title={"zh": article.title_zh, "en": article.title_en},
        summary={"zh": article.summary_zh, "en": article.summary_en},
        fields=analysis.article_fields(article, codes, article.category),
        phrases=analysis.article_phrases(article),
    )


def build_documents():
    """Every response code and published article as an in-memory Document with its texts
    (for `SearchIndex(documents)`, which tokenises them: the slow way, kept for comparisons)."""
    from knowledge.models import Article, ResponseCode

    documents = [code_document(code) for code in ResponseCode.objects.select_related("category")]
    articles = (
        Article.objects.published()
        .select_related("category")
        .prefetch_related("codes")
        .order_by("pk")
    )
    documents.extend(article_document(article) for article in articles)
    return documents


def _analyse_again(builder, stale):
    """Analyse stale documents now and store the analyses (unless edited meanwhile)."""
    from knowledge.models import Article
    from knowledge.search import analysis as A

    logger.warning("Search index: analysing %d documents again (stale or missing)", len(stale))
    empty = A.decode(A.encode(A.Analysis({}, 0.0, []), bytes(8), {}))
    for model in {m for _n, m, _pk, _at in stale}:
        entries = [(n, pk, at) for n, m, pk, at in stale if m is model]
        items_of = A.article_items if model is Article else A.code_items
        entries_iter = iter(entries)
        while chunk := list(islice(entries_iter, A.BATCH)):
            rows = model.objects.filter(pk__in=[pk for _n, pk, _at in chunk])
            rows = rows.select_related("category")
            if model is Article:
                rows = rows.prefetch_related("codes")
            items = items_of(list(rows))
            stored = dict(
                zip(
                    [pk for pk, _item in items],
                    A.blobs([item for _pk, item in items]),
                    strict=True,
                )
            )
            for number, pk, at in chunk:
                blob = stored.get(pk)
                builder.add_decoded(number, empty if blob is None else A.decode(blob))
                if blob is not None:  # a no-op when an editor saved it since it was read
                    model.objects.filter(pk=pk, updated_at=at).update(search_terms=blob)
