"""An in-memory inverted index with BM25 ranking over articles and response codes.

The same code ranks on SQLite and PostgreSQL because the database only supplies the documents;
tokenising, matching and scoring happen here.

Layout (numpy arrays, compact enough for 10,000 articles in a web worker): for each term, the
documents that contain it in impact order (best first, ties in document order), at most
MAX_POSTINGS of them (static pruning: a query never reads further), stored as document numbers
and codes into a table of the distinct term frequencies. A posting's BM25 value,
idf × f / (f + norm(document)), is computed with the same floating-point operations when the
index is built (to order the postings) and when a query reads them, so storing the frequency
instead of the value gives identical scores in a third of the memory.

Building takes the per-document analyses (knowledge.search.analysis: terms and frequencies,
computed when the content was saved) and only groups them by term, with numpy: no tokenising
and no Python loop per (term, document) pair.
"""

import math
import re
import threading
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from knowledge.search import text as T
from knowledge.search.analysis import analyse, decode, encode, terms_of
from knowledge.search.synonyms import SYNONYM_GROUPS
from knowledge.search.text import strip_markdown  # noqa: F401 (it used to live here)

K1 = 1.2
B = 0.75
BIGRAM_WEIGHT = 0.3  # query weight of character bigrams (back-up for Chinese segmentation)
SYNONYM_WEIGHT = 0.5  # query weight of terms added from a synonym group
TYPO_WEIGHT = {1: 0.8, 2: 0.6}  # query weight of a typo correction by edit distance
PHRASE_BONUS = 6.0  # a whole keyword / meaning / title found in the query
SCATTERED_PHRASE = 0.8  # share of PHRASE_BONUS when a phrase's words are all there, apart
EXACT_BONUS = 10.0  # the query *is* a keyword / meaning / title
CODE_MENTION_BONUS = 8.0  # the query mentions a response code ("应答码12", "error 77")
EXACT_CODE = 1000.0  # the query is exactly a response code
MIN_RELATIVE_SCORE = 0.25  # results scoring below this share of the best one are dropped
INTENT_WEIGHT = 1.6  # the task word of a how-to question ("how to void", "怎么撤销")
MAX_POSTINGS = 500  # per query term, the strongest documents scored (static pruning) …
MIN_POSTINGS = 100  # … scaled down by the term's query weight, but never below this
MAX_QUERY_CHARS = 200
CHUNK_PAIRS = 1_000_000  # (term, document) pairs grouped at a time while building
INTENT_EN = re.compile(
    r"\bhow (?:(?:do|can|should|would) (?:i|we|you|they) |(?:do|can) |to )(?:i |we )?([a-z]+)"
)
INTENT_ZH = re.compile(rf"(?:怎么|怎样|如何|怎么样)([{T.CJK}]+)")
CODE_RE = re.compile(r"^[0-9a-z]{2}$")


@dataclass(slots=True)
class Document:
    """One searchable thing (an article or a response code) in both languages."""

    kind: str  # "article" or "code"
    key: str  # slug or code
    category: str
    category_name: dict
    codes: tuple
    title: dict  # {"zh": …, "en": …}
    summary: dict
    fields: list = ()  # [(text, weight)] in any language (empty when built from stored analyses)
    phrases: list = ()  # [(text, weight)] short texts matched as a whole against the query
    boost: float = 1.0


@dataclass
class Hit:
    doc: Document
    score: float


@dataclass
class Results:
    hits: list
    highlight_cjk: set = field(default_factory=set)
    highlight_latin: set = field(default_factory=set)
    exact_code: str | None = None


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (typos incl. swapped letters), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2 = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                previous2 is not None
                and i > 1
                and j > 1
                and a[i - 1] == b[j - 2]
                and a[i - 2] == b[j - 1]
            ):
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[len(b)]


def _in_order(needles: tuple, haystack: list) -> bool:
    position = 0
    for needle in needles:
        try:
            position = haystack.index(needle, position) + 1
        except ValueError:
            return False
    return True


def _deletes(word: str, depth: int) -> set:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class DocumentStore(Sequence):
    """The index's documents, packed: their texts in one buffer, made into Document objects
    when read (a search reads ten). Tens of thousands of small strings and dicts would stay
    scattered over the heap after the index is replaced; a few large blocks are given back."""

    TEXTS = ("key", "codes", "title_zh", "title_en", "summary_zh", "summary_en")

    def __init__(self):
        self._texts = bytearray()
        self._ends = array("q")  # end offset of each text, len(TEXTS) per document
        self._kinds = bytearray()  # 1 for a response code, 0 for an article
        self._category = array("l")  # position in self._categories
        self._categories: list[tuple] = []  # (key, {"zh": name, "en": name})
        self._category_at: dict = {}
        self.boosts = array("d")
        self.codes: dict[str, int] = {}  # response code (lower case) → document number

    def append(self, doc: Document) -> int:
        number = len(self._kinds)
        title, summary = doc.title, doc.summary
        texts = (doc.key, " ".join(doc.codes), title["zh"], title["en"])
        texts += (summary["zh"], summary["en"])
        for text in texts:
            self._texts += text.encode()
            self._ends.append(len(self._texts))
        self._kinds.append(doc.kind == "code")
        category = (doc.category, doc.category_name["zh"], doc.category_name["en"])
        position = self._category_at.get(category)
        if position is None:
            position = self._category_at[category] = len(self._categories)
            self._categories.append((doc.category, dict(doc.category_name)))
        self._category.append(position)
        self.boosts.append(doc.boost)
        if doc.kind == "code":
            self.codes[doc.key.lower()] = number
        return number

    def __len__(self):
        return len(self._kinds)

    def __getitem__(self, number):
        if isinstance(number, slice):
            return [self[i] for i in range(*number.indices(len(self)))]
        if number < 0:
            number += len(self)
        if not 0 <= number < len(self):
            raise IndexError(number)
        size = len(self.TEXTS)
        ends = self._ends[number * size : number * size + size]
        start = self._ends[number * size - 1] if number else 0
        texts = []
        for end in ends:
            texts.append(self._texts[start:end].decode())
            start = end
        key, codes, title_zh, title_en, summary_zh, summary_en = texts
        category, names = self._categories[self._category[number]]
        return Document(
            kind="code" if self._kinds[number] else "article",
            key=key,
            category=category,
            category_name=names,
            codes=tuple(codes.split()),
            title={"zh": title_zh, "en": title_en},
            summary={"zh": summary_zh, "en": summary_en},
            boost=self.boosts[number],
        )


class IndexBuilder:
    """Collects analysed documents, then groups their terms into a SearchIndex.

    `add_document()` numbers the documents (the number is the tie-break order of results);
    their analyses can then be added in any order.
    """

    def __init__(self):
        self.docs = DocumentStore()
        self.lengths: list[float] = []
        self._ids = bytearray()  # uint32 term id of every (document, term) pair
        self._codes = bytearray()  # its frequency, as a code into self.values
        self._code_type = np.dtype("<u2")
        self.values: list[float] = []  # the distinct term frequencies
        self._value_codes: dict[float, int] = {}
        self._owners: list[int] = []  # document number of each analysis added, in order
        self._sizes: list[int] = []  # its number of terms
        self._key_ids: dict[str, int] = {}  # phrase key → number
        self._phrase_words: list[tuple] = []  # by phrase number: its words' term ids in order
        self._phrase_keys = array("q")  # one row per (document, phrase): phrase number, …
        self._phrase_docs = array("q")  # … document number …
        self._phrase_weights = array("d")  # … and weight

    def add_document(self, doc: Document) -> int:
        self.lengths.append(0.0)
        return self.docs.append(doc)

    def _codes_for(self, palette) -> np.ndarray:
        codes = []
        known = self._value_codes
        for value in palette:
            code = known.get(value)
            if code is None:
                code = known[value] = len(self.values)
                self.values.append(value)
            codes.append(code)
        if len(self.values) > 0x10000 and self._code_type.itemsize == 2:
            self._codes = bytearray(np.frombuffer(self._codes, "<u2").astype("<u4").tobytes())
            self._code_type = np.dtype("<u4")
        return np.asarray(codes, self._code_type)

    def add_decoded(self, number: int, decoded):
        """The stored analysis (knowledge.search.analysis.decode) of document `number`."""
        self.lengths[number] = decoded.length
        self._owners.append(number)
        self._sizes.append(len(decoded.ids))
        self._ids += decoded.ids.tobytes()
        self._codes += self._codes_for(decoded.palette.tolist())[decoded.codes].tobytes()
        key_ids = self._key_ids
        keys = decoded.phrase_keys
        numbers = [key_ids.get(key) for key in keys]
        if None in numbers:  # keys seen for the first time: remember their words
            words = decoded.phrase_ids.tolist()
            start = 0
            for position, (key, size) in enumerate(
                zip(keys, decoded.phrase_sizes.tolist(), strict=True)
            ):
                if numbers[position] is None:
                    numbers[position] = key_ids.setdefault(key, len(key_ids))
                    if numbers[position] == len(self._phrase_words):
                        self._phrase_words.append(tuple(words[start : start + size]))
                start += size
        self._phrase_keys.extend(numbers)
        self._phrase_docs.extend([number] * len(numbers))
        self._phrase_weights.frombytes(decoded.phrase_weights.astype("=f8").tobytes())

    def add_analysis(self, number: int, analysis, vocabulary: dict):
        """An analysis made in memory; `vocabulary` (term → id) is shared by all documents."""
        ids = {t: vocabulary.setdefault(t, len(vocabulary)) for t in terms_of(analysis)}
        self.add_decoded(number, decode(encode(analysis, bytes(8), ids)))

    def finish(self, texts: dict, token=None) -> "SearchIndex":
        """The index; `texts` maps every term id added to its term."""
        index = SearchIndex.__new__(SearchIndex)
        self.finish_into(index, texts, token)
        return index

    @staticmethod
    def _order_postings(where, local, low, df, owner, codes, values, idf, norm, in_order):
        """Impact order for one chunk of terms (`where`: pair positions grouped by term,
        `local`: their term number - low); returns `where` ordered and pruned.

        A term in at most MIN_POSTINGS documents is always read whole, so its order does not
        matter; the others are sorted by BM25 value, best first, ties to the lower document
        number, and cut at MAX_POSTINGS.
        """
        big = np.flatnonzero(df > MIN_POSTINGS)
        if not big.size:
            return where
        starts = np.zeros(df.size + 1, np.int64)
        np.cumsum(df, out=starts[1:])
        # The pairs of the big terms: their scores, computed as a query computes them.
        spans = [(int(starts[t]), int(starts[t + 1])) for t in big.tolist()]
        picked = np.concatenate([np.arange(a, b) for a, b in spans])
        doc = owner[where[picked]]
        freq = values[codes[where[picked]]]
        scores = idf[low + local[picked].astype(np.int64)] * freq / (freq + norm[doc])
        del freq
        position = 0
        for start, end in spans:
            size = end - start
            score = scores[position : position + size]
            segment_doc = doc[position : position + size]
            position += size
            chosen = None
            if size > MAX_POSTINGS:  # only the best MAX_POSTINGS (and ties) need sorting
                kth = np.partition(score, size - MAX_POSTINGS)[size - MAX_POSTINGS]
                chosen = np.flatnonzero(score >= kth)
                score, segment_doc = score[chosen], segment_doc[chosen]
            if in_order:  # documents were added in order: a stable sort keeps ties by number
                order = np.argsort(-score, kind="stable")
            else:
                order = np.lexsort((segment_doc, -score))
            order = order[:MAX_POSTINGS]
            if chosen is not None:
                order = chosen[order]
            segment = where[start:end]
            where[start : start + order.size] = segment[order]
        cut = [(a + MAX_POSTINGS, b) for a, b in spans if b - a > MAX_POSTINGS]
        if cut:
            keep = np.ones(where.size, bool)
            for a, b in cut:
                keep[a:b] = False
            where = where[keep]
        return where

    def finish_into(self, index: "SearchIndex", texts: dict, token=None):
        started = time.perf_counter()
        docs = self.docs
        count = len(docs) or 1
        doc_type = np.dtype("<u2") if len(docs) <= 0x10000 else np.dtype("<u4")
        ids = np.frombuffer(self._ids, "<u4")
        codes = np.frombuffer(self._codes, self._code_type)
        owner = np.repeat(np.asarray(self._owners, doc_type), np.asarray(self._sizes, np.int64))
        values = np.asarray(self.values, np.float64)

        # Terms that occur in some document, numbered densely in id order.
        df_by_id = np.bincount(ids) if ids.size else np.zeros(0, np.int64)
        used = np.flatnonzero(df_by_id)
        dense = np.zeros(df_by_id.size, np.int32)
        dense[used] = np.arange(used.size, dtype=np.int32)
        df = df_by_id[used]
        del df_by_id
        df_list = df.tolist()
        # idf, lengths and norms with Python floats, exactly as the plain formula gives them.
        average = (sum(self.lengths) / count) or 1.0
        idf_of = {n: math.log(1 + (count - n + 0.5) / (n + 0.5)) * (K1 + 1) for n in set(df_list)}
        idf = np.asarray([idf_of[n] for n in df_list], np.float64)
        norm = np.asarray([K1 * (1 - B + B * n / average) for n in self.lengths], np.float64)

        # Group the pairs by term, a chunk of terms at a time (bounded memory); a stable radix
        # sort on the term number keeps each term's documents in the order they were added.
        kept = np.minimum(df, MAX_POSTINGS)
        ptr = np.zeros(used.size + 1, np.int64)
        np.cumsum(kept, out=ptr[1:])
        post_docs = np.empty(int(ptr[-1]), doc_type)
        post_codes = np.empty(int(ptr[-1]), self._code_type)
        in_order = all(a < b for a, b in pairwise(self._owners))
        total = np.cumsum(df)
        low = 0
        while low < used.size:
            base = int(total[low - 1]) if low else 0
            high = int(np.searchsorted(total, base + CHUNK_PAIRS, side="right"))
            high = min(max(high, low + 1), low + 0x10000, used.size)
            if low == 0 and high == used.size:
                where = np.arange(ids.size)
            else:
                where = np.flatnonzero((ids >= used[low]) & (ids <= used[high - 1]))
            local = (dense[ids[where]] - low).astype(np.uint16)
            order = np.argsort(local, kind="stable")
            where, local = where[order], local[order]
            del order
            where = self._order_postings(
                where, local, low, df[low:high], owner, codes, values, idf, norm, in_order
            )
            post_docs[ptr[low] : ptr[high]] = owner[where]
            post_codes[ptr[low] : ptr[high]] = codes[where]
            del where, local
            low = high
        del owner, dense

        # Phrases: for each distinct key, its documents and weights (CSR), its words, and the
        # rarest of its words as the anchor that finds it from a query.
        phrase_keys = np.frombuffer(self._phrase_keys, np.int64)
        order = np.argsort(phrase_keys, kind="stable")
        phrase_docs = np.frombuffer(self._phrase_docs, np.int64)[order].astype(doc_type)
        phrase_weights = np.frombuffer(self._phrase_weights, np.float64)[order]
        phrase_ptr = np.zeros(len(self._key_ids) + 1, np.int64)
        np.cumsum(np.bincount(phrase_keys, minlength=len(self._key_ids)), out=phrase_ptr[1:])
        terms = {texts[i]: t for t, i in enumerate(used.tolist())}

        def frequency(word):
            number = terms.get(word)
            return 0 if number is None else df_list[number]

        phrases, anchors = {}, defaultdict(list)
        for key, number in self._key_ids.items():
            words = tuple(texts[i] for i in self._phrase_words[number])
            entry = (int(phrase_ptr[number]), int(phrase_ptr[number + 1]), words, key)
            phrases[key] = entry
            if words:
                anchors[min(words, key=frequency)].append(entry)

        index.token = token
        index.docs = docs
        index.by_code = docs.codes
        boosted = [(i, boost) for i, boost in enumerate(docs.boosts) if boost != 1.0]
        index.boost_docs = np.asarray([i for i, _b in boosted], np.int64)
        index.boost_values = np.asarray([b for _i, b in boosted], np.float64)
        index.terms = terms
        index.ptr, index.post_docs, index.post_codes = ptr, post_docs, post_codes
        index.values, index.idf, index.norm = values, idf, norm
        index.phrases, index.phrase_anchors = phrases, dict(anchors)
        index.phrase_docs, index.phrase_weights = phrase_docs, phrase_weights
        index.latin_df = Counter(
            {t: df_list[n] for t, n in terms.items() if t.isascii() and t.isalpha() and len(t) >= 4}
        )
        index._deletes = None
        index._fuzzy_lock = threading.Lock()
        index.build_seconds = time.perf_counter() - started
        self.__init__()  # the scratch buffers can go; the index keeps what it needs


class SynonymTable:
    def __init__(self, groups):
        self.groups = []
        for group in groups:
            entries = []
            for phrase in group:
                key = T.phrase_key(phrase)
                cjk_only = bool(T.CJK_RUN.match(key.replace(" ", "")))
                entries.append((phrase, key, cjk_only))
            self.groups.append(entries)

    def expansions(self, query_key: str) -> list[str]:
        """Phrases to add for a query (given as its phrase key)."""
        padded = f" {query_key} "
        added = []
        for entries in self.groups:
            matched = [
                key
                for _phrase, key, cjk_only in entries
                if key and ((cjk_only and key in query_key) or f" {key} " in padded)
            ]
            if matched:
                added.extend(phrase for phrase, key, _c in entries if key not in matched)
        return added


_synonyms = None


def synonyms() -> SynonymTable:
    """The shipped synonym groups (knowledge/content/synonyms.json): for indexes built without
    the database. The application's index carries the editors' groups (`synonym_table`, set by
    knowledge.search.load_index), so they change with the content version, like the documents."""
    global _synonyms
    if _synonyms is None:
        _synonyms = SynonymTable(SYNONYM_GROUPS)
    return _synonyms


class SearchIndex:
    """Search over a fixed set of documents; a new index is built when the content changes."""

    def __init__(self, documents=(), token=None):
        """An index of in-memory Documents, tokenised now (slow for many documents: the
        application builds its index from the stored analyses, see knowledge.search)."""
        builder = IndexBuilder()
        vocabulary: dict[str, int] = {}
        for doc in documents:
            number = builder.add_document(doc)
            builder.add_analysis(number, analyse(doc.fields, doc.phrases), vocabulary)
        builder.finish_into(self, {i: t for t, i in vocabulary.items()}, token)

    def memory_bytes(self) -> int:
        """Bytes held by the arrays (postings, norms, phrases): most of the index's memory."""
        arrays = (self.ptr, self.post_docs, self.post_codes, self.values, self.idf, self.norm)
        return sum(a.nbytes for a in (*arrays, self.phrase_docs, self.phrase_weights))

    # --- typo tolerance -------------------------------------------------------------------
    def _delete_map(self):
        if self._deletes is None:
            with self._fuzzy_lock:
                if self._deletes is None:
                    deletes = defaultdict(list)
                    for term in self.latin_df:
                        for variant in _deletes(term, 1):
                            deletes[variant].append(term)
                    self._deletes = deletes
        return self._deletes

    def corrections(self, word: str, raw_length: int) -> list[tuple[str, int]]:
        """Vocabulary terms within edit distance 1 (words of 5–7 letters) or 2 (8 or more)."""
        if raw_length < 5 or not word.isalpha() or word in self.terms:
            return []
        limit = 1 if min(raw_length, len(word)) < 8 else 2
        deletes = self._delete_map()
        candidates = set()
        for variant in _deletes(word, limit):
            candidates.update(deletes.get(variant, ()))
        scored = []
        for candidate in candidates:
            distance = osa_distance(word, candidate, limit)
            if distance <= limit:
                scored.append((distance, -self.latin_df[candidate], candidate))
        scored.sort()
        if not scored:
            return []
        best = scored[0][0]
        return [(c, d) for d, _f, c in scored if d == best][:3]

    # --- querying --------------------------------------------------------------------------
    @property
    def synonyms(self) -> SynonymTable:
        return getattr(self, "synonym_table", None) or synonyms()

    def query_terms(self, query: str):
        """Weighted terms of a query: its own words, typo fixes, synonyms, bigrams."""
        weights: dict[str, float] = {}
        sequence: list[str] = []  # the query's own words in order (with typo fixes)

        def add(term, weight):
            if term in self.terms and weight > weights.get(term, 0):
                weights[term] = weight
            if weight >= TYPO_WEIGHT[1] and not term.startswith(T.BIGRAM):
                sequence.append(term)

        normalized = T.normalize(query)
        key_units: list[str] = []  # like phrase_key(query), with typos corrected
        raw_units: list[str] = []  # exactly phrase_key(query)
        for match in T.RUN.finditer(normalized):
            run = match.group(0)
            if T.CJK_RUN.match(run):
                key_units.append(run)
                raw_units.append(run)
                for term in T.cjk_terms(run):
                    add(term, BIGRAM_WEIGHT if term.startswith(T.BIGRAM) else 1.0)
                continue
            for part in run.split("-"):
                bare = part.replace("'", "")
                if bare in T.EN_STOP:
                    continue
                term = T.stem(part)
                corrections = [] if term in self.terms else self.corrections(term, len(bare))
                key_units.append(corrections[0][0] if corrections else term)
                raw_units.append(term)
                if not corrections:
                    add(term, 1.0)
                for correction, distance in corrections:
                    add(correction, TYPO_WEIGHT[distance])
            if "-" in run:
                add(T.stem(run.replace("-", "")), 1.0)  # pre-auth → preauth
        for term in self.intent_terms(normalized):
            if term in weights:
                weights[term] = max(weights[term], INTENT_WEIGHT)
        query_key = " ".join(unit for unit in key_units if unit)
        raw_key = " ".join(unit for unit in raw_units if unit)
        table = self.synonyms
        expansions = table.expansions(query_key)
        if raw_key != query_key:
            expansions += table.expansions(raw_key)
        for phrase in expansions:
            for term in T.tokenize(phrase):
                if not term.startswith(T.BIGRAM):
                    add(term, SYNONYM_WEIGHT)
        return weights, query_key, sequence

    @staticmethod
    def intent_terms(normalized: str) -> list[str]:
        """The task word of a how-to question: `how to void`, `怎么撤销` → void, 撤销."""
        found = []
        for match in INTENT_EN.finditer(normalized):
            found.extend(T.latin_terms(match.group(1))[:1])
        for match in INTENT_ZH.finditer(normalized):
            words = [w for w in T.cjk_terms(match.group(1)) if not w.startswith(T.BIGRAM)]
            found.extend(words[:1])
        return found

    def _phrase_scores(self, query_key: str, query_sequence: list):
        """Bonus for documents whose keyword / meaning / title appears whole in the query: an
        array over all documents, or None when no phrase matches.

        Contiguous (the phrase is a substring of the query) scores full; all of the phrase's
        words present in the same order with others between (商户被冻结 in 商户账户被冻结)
        scores a little less. A document keeps its best bonus.
        """
        compact = query_key[: MAX_QUERY_CHARS // 2]
        if not compact:
            return None
        total = len(compact.replace(" ", ""))
        bonus = None

        def add(entry, value):
            nonlocal bonus
            if bonus is None:
                bonus = np.zeros(len(self.docs))
            start, end = entry[0], entry[1]
            docs = self.phrase_docs[start:end]
            bonus[docs] = np.maximum(bonus[docs], value * self.phrase_weights[start:end])

        query_terms = set(query_sequence)
        for term in query_terms:
            for entry in self.phrase_anchors.get(term, ()):
                words, key = entry[2], entry[3]
                if all(w in query_terms for w in words) and _in_order(words, query_sequence):
                    length = len(key.replace(" ", ""))
                    add(entry, SCATTERED_PHRASE * PHRASE_BONUS * min(1.0, length / total))
        starts, ends = set(), set()
        for match in re.finditer(rf"[{T.CJK}]+|[^ {T.CJK}]+", compact):
            if T.CJK_RUN.match(match.group(0)):
                starts.update(range(match.start(), match.end()))
                ends.update(range(match.start() + 1, match.end() + 1))
            else:
                starts.add(match.start())
                ends.add(match.end())
        for start in sorted(starts):
            for end in sorted(ends):
                if end - start < 2:
                    continue
                piece = compact[start:end]
                if piece != piece.strip():
                    continue
                entry = self.phrases.get(piece)
                if entry is None:
                    continue
                coverage = len(piece.replace(" ", "")) / total
                add(entry, EXACT_BONUS if piece == compact else PHRASE_BONUS * coverage)
        return bonus

    @staticmethod
    def _top(scores, touched, count) -> list[tuple[int, float]]:
        """The `count` best (document, score), best first, ties by document number."""
        values = scores[touched]
        if touched.size > count:
            kth = np.partition(values, touched.size - count)[touched.size - count]
            keep = values >= kth
            touched, values = touched[keep], values[keep]
        order = np.lexsort((touched, -values))[:count]
        return [(int(touched[i]), float(values[i])) for i in order]

    def search(self, query: str, limit: int = 10) -> Results:
        query = (query or "").strip()[:MAX_QUERY_CHARS]
        if not query:
            return Results(hits=[])
        weights, query_key, sequence = self.query_terms(query)
        scores = np.zeros(len(self.docs))
        ptr, post_docs, post_codes = self.ptr, self.post_docs, self.post_codes
        values, idf, norm = self.values, self.idf, self.norm
        for term, weight in weights.items():
            number = self.terms[term]
            start, end = int(ptr[number]), int(ptr[number + 1])
            # Weaker terms (bigrams, synonyms) can change fewer places in the top results.
            end = min(end, start + max(MIN_POSTINGS, int(MAX_POSTINGS * min(weight, 1.0))))
            docs = post_docs[start:end]
            freq = values[post_codes[start:end]]
            scores[docs] += weight * (idf[number] * freq / (freq + norm[docs]))
        bonus = self._phrase_scores(query_key, sequence)
        if bonus is not None:
            scores += bonus
        if self.boost_docs.size:
            scores[self.boost_docs] *= self.boost_values
        exact_code = exact_index = None
        compact = T.normalize(query).strip()
        if CODE_RE.match(compact) and compact in self.by_code:
            exact_index = self.by_code[compact]
            exact_code = self.docs[exact_index].key
            scores[exact_index] += EXACT_CODE
        else:
            for word in re.findall(r"(?<![0-9a-z])[0-9a-z]{2}(?![0-9a-z])", compact):
                if word in self.by_code and (word.isdigit() or word[0] == "a"):
                    scores[self.by_code[word]] += CODE_MENTION_BONUS
        touched = np.flatnonzero(scores)  # every contribution is positive
        if not touched.size:
            return Results(hits=[])
        ranked = self._top(scores, touched, limit + 1)
        top = max(score - (EXACT_CODE if index == exact_index else 0) for index, score in ranked)
        hits = [
            Hit(self.docs[index], score)
            for index, score in ranked[:limit]
            if score > 0 and score >= top * MIN_RELATIVE_SCORE
        ]
        cjk = {t for t in weights if not t.startswith(T.BIGRAM) and T.CJK_RUN.match(t)}
        cjk = {t for t in cjk if len(t) >= 2} or cjk
        latin = {t for t in weights if not T.CJK_RUN.match(t) and not t.startswith(T.BIGRAM)}
        if exact_code:
            latin.add(exact_code.lower())
        return Results(hits=hits, highlight_cjk=cjk, highlight_latin=latin, exact_code=exact_code)
