"""What each document puts into the search index, computed when the content is saved.

Tokenising is the slow part of building the index (jieba for Chinese, the stemmer for English:
about 2 ms per article, 20 s and more for 10,000 articles). So every article and response code
keeps its analysis in a binary column, `search_terms`, written by `save()` and by the bulk paths
(the content loader, the benchmark generator, the data migration):

- the term frequencies of the whole document with the field weights applied, computed by
  `analyse()` exactly as the index always did (the same floating-point additions in the same
  order, so scores and rankings are bit-for-bit unchanged);
- the document length (the sum of the weights of all its tokens);
- its phrases (titles, meanings, keywords) with their words in order;
- a stamp of everything else that went in: the analyser's fingerprint, the article's response
  codes and its category's names. The index compares the stamp when it loads a document; a
  stale one (codes changed in bulk, a category renamed, a new analyser) is analysed again and
  written back (`knowledge.search.load_index`).

Terms are stored as ids of `SearchTerm` rows (a shared vocabulary that only grows), so loading
10,000 documents is a few `numpy.frombuffer` calls per document instead of millions of strings.

Binary layout, little-endian: HEADER, then each section starting at a multiple of 8 bytes:
palette (float64: the document's distinct term frequencies), term ids (uint32), palette codes
per term (uint8/16/32, `width` bytes), phrase weights (float64), number of words per phrase
(uint16), the phrases' word ids (uint32), the phrase keys (UTF-8, joined by newlines).
"""

import hashlib
import re
import struct
from collections import defaultdict, namedtuple
from functools import lru_cache
from importlib import metadata
from itertools import islice

import numpy as np

from diagnosis.core.cards import scrub_text
from knowledge.bilingual import lines
from knowledge.search import text as T

# Bump when tokenising changes in a way the fingerprint below cannot see (the code of
# knowledge/search/text.py): every stored analysis is then redone on the next index build.
ANALYZER_REVISION = 1
# A term longer than the longest query can never match one, nor be within two typos of one; it
# is left out of the stored terms (it still counts towards the document length), and so is a
# phrase containing one.
MAX_TERM_CHARS = 200
MAGIC = b"K1"
BATCH = 500  # documents analysed per vocabulary round trip in the bulk paths

CODES = "#codes"  # the article's response codes, space separated
ARTICLE_FIELDS = (
    ("title_zh", 3.0),
    ("title_en", 3.0),
    ("keywords_zh", 2.5),
    ("keywords_en", 2.5),
    (CODES, 2.0),
    ("summary_zh", 1.5),
    ("summary_en", 1.5),
    ("symptoms_zh", 1.0),
    ("symptoms_en", 1.0),
    ("cause_zh", 0.7),
    ("cause_en", 0.7),
    ("merchant_steps_zh", 0.5),
    ("merchant_steps_en", 0.5),
    ("cardholder_steps_zh", 0.4),
    ("cardholder_steps_en", 0.4),
    ("prevention_zh", 0.5),
    ("prevention_en", 0.5),
    ("customer_script_zh", 0.3),
    ("customer_script_en", 0.3),
    ("category.name_zh", 0.3),
    ("category.name_en", 0.3),
)
CODE_FIELDS = (
    ("code", 3.0),
    ("meaning_zh", 3.0),
    ("meaning_en", 3.0),
    ("keywords_zh", 2.5),
    ("keywords_en", 2.5),
    ("explanation_zh", 1.0),
    ("explanation_en", 1.0),
    ("merchant_steps_zh", 0.5),
    ("merchant_steps_en", 0.5),
    ("say_to_customer_zh", 0.3),
    ("say_to_customer_en", 0.3),
    ("retry_advice_zh", 0.3),
    ("retry_advice_en", 0.3),
    ("category.name_zh", 0.3),
    ("category.name_en", 0.3),
)
# Model fields whose change needs a new analysis when a model is saved with update_fields.
ARTICLE_SOURCES = {n for n, _w in ARTICLE_FIELDS if "." not in n and n != CODES}
ARTICLE_SOURCES |= {"category", "category_id"}
CODE_SOURCES = {n for n, _w in CODE_FIELDS if "." not in n} | {"category", "category_id"}

MEANING_PARTS = re.compile(r"\s*[–—/／（）()：:，,；;]\s*")
TITLE_CODE_SUFFIX = re.compile(r"\s*[（(][^（）()]*\d[^（）()]*[）)]\s*$")

Analysis = namedtuple("Analysis", "tf length phrases")
Decoded = namedtuple(
    "Decoded", "stamp length ids codes palette phrase_keys phrase_weights phrase_sizes phrase_ids"
)
HEADER = struct.Struct("<2sB5x8sdIIIII4x")  # 48 bytes
CODE_TYPES = {1: np.dtype("<u1"), 2: np.dtype("<u2"), 4: np.dtype("<u4")}


# --- the documents' texts --------------------------------------------------------------------
def _value(obj, name, codes, category):
    if name == CODES:
        return " ".join(codes)
    if name.startswith("category."):
        return getattr(category, name.split(".", 1)[1])
    return getattr(obj, name)


def article_fields(article, codes, category) -> list:
    """[(text, weight)] of an article (any object with the Article fields: also a historical
    model in a migration), its response codes sorted, its category."""
    return [(_value(article, n, codes, category), w) for n, w in ARTICLE_FIELDS]


def article_phrases(article) -> list:
    titles = [article.title_zh, article.title_en]
    phrases = [(TITLE_CODE_SUFFIX.sub("", title), 1.0) for title in titles]
    phrases.extend((k, 1.0) for k in lines(article.keywords_zh) + lines(article.keywords_en))
    return phrases


def code_fields(code, category) -> list:
    return [(_value(code, n, (), category), w) for n, w in CODE_FIELDS]


def code_phrases(code) -> list:
    meanings = [code.meaning_zh, code.meaning_en]
    phrases = [(m, 1.0) for m in meanings]
    for meaning in meanings:
        phrases.extend((part, 0.8) for part in MEANING_PARTS.split(meaning) if part.strip())
    phrases.extend((k, 1.0) for k in lines(code.keywords_zh) + lines(code.keywords_en))
    return phrases


# --- analysing -------------------------------------------------------------------------------
def analyse(fields, phrases, memo: dict | None = None) -> Analysis:
    """Term frequencies, length and phrases of a document.

    `memo` (text → terms) lets a bulk caller tokenise repeated texts once.
    """
    tf: dict[str, float] = defaultdict(float)
    length = 0.0
    for text, weight in fields:
        if memo is None:
            terms = T.tokenize(T.strip_markdown(text))
        else:
            terms = memo.get(text)
            if terms is None:
                terms = memo[text] = T.tokenize(T.strip_markdown(text))
        for term in terms:
            tf[term] += weight
            length += weight
    best = {}
    for text, weight in phrases:
        key = T.phrase_key(text)
        if key and weight > best.get(key, 0):
            best[key] = weight
    found = [
        (key, weight, tuple(dict.fromkeys(t for t in T.tokenize(key) if t[0] != T.BIGRAM)))
        for key, weight in best.items()
    ]
    return Analysis(dict(tf), length, found)


@lru_cache(maxsize=1)
def fingerprint() -> bytes:
    """Changes whenever a stored analysis could differ: analyser, dictionary, fields, weights."""
    try:
        jieba_version = metadata.version("jieba")
    except metadata.PackageNotFoundError:  # pragma: no cover - jieba is a dependency
        jieba_version = "?"
    from knowledge.search import segment

    parts = (
        ANALYZER_REVISION,
        segment.REVISION,
        MAGIC,
        MAX_TERM_CHARS,
        jieba_version,
        T.CJK,
        T.RUN.pattern,
        T.BIGRAM,
        T.USER_WORDS,
        sorted(T.ZH_STOP),
        sorted(T.EN_STOP),
        sorted(T.IRREGULAR.items()),
        ARTICLE_FIELDS,
        CODE_FIELDS,
        MEANING_PARTS.pattern,
        TITLE_CODE_SUFFIX.pattern,
    )
    return hashlib.sha256(repr(parts).encode()).digest()[:8]


def _stamp(*parts) -> bytes:
    return hashlib.sha256(fingerprint() + "\x1f".join(parts).encode()).digest()[:8]


def article_stamp(codes, category) -> bytes:
    return _stamp("article", *codes, "\x1e", category.name_zh, category.name_en)


def code_stamp(category) -> bytes:
    return _stamp("code", category.name_zh, category.name_en)


# --- the binary form -------------------------------------------------------------------------
def _pad(data: bytearray):
    data.extend(b"\0" * (-len(data) % 8))


def terms_of(analysis: Analysis) -> set:
    """The terms to store: every term and phrase word a query can ever match."""
    found = {t for t in analysis.tf if len(t) <= MAX_TERM_CHARS}
    for _key, _weight, ordered in _phrases(analysis):
        found.update(ordered)
    return found


def _phrases(analysis: Analysis):
    return [p for p in analysis.phrases if all(len(t) <= MAX_TERM_CHARS for t in p[2])]


def encode(analysis: Analysis, stamp: bytes, ids: dict) -> bytes:
    """The stored form of an analysis; `ids` maps every term of `terms_of()` to its id."""
    terms = [t for t in analysis.tf if len(t) <= MAX_TERM_CHARS]
    values = [analysis.tf[t] for t in terms]
    palette = sorted(set(values))
    position = {value: i for i, value in enumerate(palette)}
    width = 1 if len(palette) <= 0x100 else 2 if len(palette) <= 0x10000 else 4
    phrases = _phrases(analysis)
    keys = "\n".join(key for key, _w, _o in phrases).encode()
    phrase_ids = [ids[t] for _k, _w, ordered in phrases for t in ordered]
    data = bytearray(
        HEADER.pack(
            MAGIC,
            width,
            stamp,
            analysis.length,
            len(terms),
            len(palette),
            len(phrases),
            len(phrase_ids),
            len(keys),
        )
    )
    data += np.asarray(palette, "<f8").tobytes()
    data += np.fromiter((ids[t] for t in terms), "<u4", len(terms)).tobytes()
    data += np.fromiter((position[v] for v in values), CODE_TYPES[width], len(values)).tobytes()
    _pad(data)
    data += np.asarray([w for _k, w, _o in phrases], "<f8").tobytes()
    data += np.asarray([len(o) for _k, _w, o in phrases], "<u2").tobytes()
    _pad(data)
    data += np.asarray(phrase_ids, "<u4").tobytes()
    data += keys
    return bytes(data)


def decode(blob) -> Decoded | None:
    """The arrays of a stored analysis (views on `blob`), or None when it is not one."""
    if blob is None or len(blob) < HEADER.size:
        return None
    view = memoryview(blob)
    magic, width, stamp, length, n_terms, n_palette, n_phrases, n_words, n_keys = (
        HEADER.unpack_from(view)
    )
    if magic != MAGIC or width not in CODE_TYPES:
        return None
    offset = HEADER.size

    def take(dtype, count, align=False):
        nonlocal offset
        array = np.frombuffer(view, dtype, count, offset)
        offset += array.nbytes
        if align:
            offset += -offset % 8
        return array

    palette = take("<f8", n_palette)
    ids = take("<u4", n_terms)
    codes = take(CODE_TYPES[width], n_terms, align=True)
    phrase_weights = take("<f8", n_phrases)
    phrase_sizes = take("<u2", n_phrases, align=True)
    phrase_ids = take("<u4", n_words)
    keys = bytes(view[offset : offset + n_keys]).decode() if n_phrases else ""
    return Decoded(
        stamp,
        length,
        ids,
        codes,
        palette,
        keys.split("\n") if n_phrases else [],
        phrase_weights,
        phrase_sizes,
        phrase_ids,
    )


def stamp_of(blob) -> bytes | None:
    if blob is None or len(blob) < HEADER.size or bytes(blob[:2]) != MAGIC:
        return None
    return HEADER.unpack_from(memoryview(blob))[2]


# --- the vocabulary --------------------------------------------------------------------------
def _term_model():
    from django.apps import apps

    return apps.get_model("knowledge", "SearchTerm")


def _chunks(items, size=900):  # stays under SQLite's limit of variables per statement
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


def term_ids(terms, term_model=None) -> dict:
    """{term: id} for the terms, adding the new ones to the vocabulary."""
    model = term_model or _term_model()
    wanted = sorted(set(terms))
    found = {}
    for chunk in _chunks(wanted):
        found.update(model.objects.filter(text__in=chunk).values_list("text", "pk"))
    missing = [t for t in wanted if t not in found]
    if missing:
        model.objects.bulk_create(
            [model(text=t) for t in missing], ignore_conflicts=True, batch_size=500
        )
        for chunk in _chunks(missing):
            found.update(model.objects.filter(text__in=chunk).values_list("text", "pk"))
        # A term that looks like (part of) a card number is stored masked (SearchTerm.text
        # scrubs at the storage boundary): it maps to the masked row.
        stored_as = {t: scrub_text(t) for t in missing if t not in found}
        if stored_as:
            rows = dict(
                model.objects.filter(text__in=set(stored_as.values())).values_list("text", "pk")
            )
            found.update({t: rows[s] for t, s in stored_as.items() if s in rows})
    return found


def blobs(items, term_model=None, memo: dict | None = None) -> list:
    """Stored forms for [(fields, phrases, stamp)], with one vocabulary round trip."""
    analyses = [analyse(fields, phrases, memo) for fields, phrases, _stamp in items]
    wanted = set()
    for analysis in analyses:
        wanted |= terms_of(analysis)
    ids = term_ids(wanted, term_model)
    return [encode(a, item[2], ids) for a, item in zip(analyses, items, strict=True)]


# --- one model instance ----------------------------------------------------------------------
def article_blob(article) -> bytes:
    """For Article.save(): its codes as they are in the database (none before the first save;
    setting them later refreshes the analysis, see knowledge.signals)."""
    codes = sorted(article.codes.values_list("code", flat=True)) if article.pk else []
    category = article.category
    item = (article_fields(article, codes, category), article_phrases(article))
    return blobs([(*item, article_stamp(codes, category))])[0]


def code_blob(code) -> bytes:
    category = code.category
    item = (code_fields(code, category), code_phrases(code))
    return blobs([(*item, code_stamp(category))])[0]


# --- many rows -------------------------------------------------------------------------------
def article_items(articles) -> list:
    """(pk, (fields, phrases, stamp)) of articles with `category` and `codes` loaded."""
    found = []
    for article in articles:
        codes = sorted(code.code for code in article.codes.all())
        category = article.category
        stamp = article_stamp(codes, category)
        item = (article_fields(article, codes, category), article_phrases(article), stamp)
        found.append((article.pk, item))
    return found


def code_items(codes) -> list:
    found = []
    for code in codes:
        category = code.category
        item = (code_fields(code, category), code_phrases(code), code_stamp(category))
        found.append((code.pk, item))
    return found


def refresh(*, articles=None, codes=None, term_model=None) -> int:
    """Analyse again and store: any querysets of Article and ResponseCode (real or historical
    models). Returns the number of rows written."""
    written = 0
    memo: dict = {}
    for queryset, items_of in ((codes, code_items), (articles, article_items)):
        if queryset is None:
            continue
        queryset = queryset.select_related("category").order_by("pk")
        if items_of is article_items:
            queryset = queryset.prefetch_related("codes")
        pks = list(queryset.values_list("pk", flat=True))
        for chunk in _chunks(pks, BATCH):
            rows = list(queryset.filter(pk__in=chunk))
            items = items_of(rows)
            stored = blobs([item for _pk, item in items], term_model, memo)
            for row, blob in zip(rows, stored, strict=True):
                row.search_terms = blob
            queryset.model.objects.bulk_update(rows, ["search_terms"], batch_size=100)
            written += len(rows)
            memo.clear()
    return written
