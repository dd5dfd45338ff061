"""The search index as it was before it became numpy arrays built from stored analyses: the
reference that the application's index must match exactly (tests/knowledge/test_search_index.py).

Plain Python: each document is tokenised when the index is built, every (term, document) BM25
value is computed and kept in per-term lists of tuples. Slow and big at 10,000 articles, but
simple enough to check by reading. Kept verbatim apart from this docstring.
"""

import heapq
import math
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter

from knowledge.search import text as T
from knowledge.search.synonyms import SYNONYM_GROUPS

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
INTENT_EN = re.compile(
    r"\bhow (?:(?:do|can|should|would) (?:i|we|you|they) |(?:do|can) |to )(?:i |we )?([a-z]+)"
)
INTENT_ZH = re.compile(rf"(?:怎么|怎样|如何|怎么样)([{T.CJK}]+)")
CODE_RE = re.compile(r"^[0-9a-z]{2}$")


@dataclass
class Document:
    """One searchable thing (an article or a response code) in both languages."""

    kind: str  # "article" or "code"
    key: str  # slug or code
    category: str
    category_name: dict
    codes: tuple
    title: dict  # {"zh": …, "en": …}
    summary: dict
    fields: list  # [(text, weight)] in any language
    phrases: list  # [(text, weight)] short texts matched as a whole against the query
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


def strip_markdown(text: str) -> str:
    """Markdown to plain words: link targets and emphasis markers are not content."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text or "")
    return re.sub(r"[*_`#>]+", " ", text)


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


_memo: dict = {}
_memo_lock = threading.Lock()
MEMO_SIZE = 50_000


def analyze(doc: Document):
    """(term frequencies, length, phrases) of a document, remembered per process by content, so
    rebuilding the index after one edit only re-reads the edited document."""
    fingerprint = hash((tuple(doc.fields), tuple(doc.phrases)))
    found = _memo.get(fingerprint)
    if found is not None:
        return found
    tf: dict[str, float] = defaultdict(float)
    length = 0.0
    for text, weight in doc.fields:
        for term in T.tokenize(strip_markdown(text)):
            tf[term] += weight
            length += weight
    best = {}
    for text, weight in doc.phrases:
        key = T.phrase_key(text)
        if key and weight > best.get(key, 0):
            best[key] = weight
    phrases = [
        (key, weight, tuple(dict.fromkeys(t for t in T.tokenize(key) if t[0] != T.BIGRAM)))
        for key, weight in best.items()
    ]
    found = (dict(tf), length, phrases)
    with _memo_lock:
        if len(_memo) >= MEMO_SIZE:
            _memo.clear()
        _memo[fingerprint] = found
    return found


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
    global _synonyms
    if _synonyms is None:
        _synonyms = SynonymTable(SYNONYM_GROUPS)
    return _synonyms


class SearchIndex:
    def __init__(self, documents, token=None):
        self.token = token
        self.docs = list(documents)
        self.by_code = {}
        self.postings: dict[str, list] = {}
        self.phrases: dict[str, list] = defaultdict(list)
        self.latin_df: Counter = Counter()
        self._deletes = None
        self._fuzzy_lock = threading.Lock()
        self._build()

    def _build(self):
        term_freqs = []
        lengths = []
        phrase_terms = []
        df: Counter = Counter()
        self.boosts = {i: doc.boost for i, doc in enumerate(self.docs) if doc.boost != 1.0}
        for index, doc in enumerate(self.docs):
            if doc.kind == "code":
                self.by_code[doc.key.lower()] = index
            tf, length, doc_phrases = analyze(doc)
            term_freqs.append(tf)
            lengths.append(length)
            df.update(tf.keys())
            for key, weight, ordered in doc_phrases:
                self.phrases[key].append((index, weight))
                if ordered:
                    phrase_terms.append((index, ordered, weight, len(key.replace(" ", ""))))
        count = len(self.docs) or 1
        average = (sum(lengths) / count) or 1.0
        idf = {t: math.log(1 + (count - n + 0.5) / (n + 0.5)) * (K1 + 1) for t, n in df.items()}
        postings = defaultdict(list)
        for index, tf in enumerate(term_freqs):
            norm = K1 * (1 - B + B * lengths[index] / average)
            for term, freq in tf.items():
                postings[term].append((index, idf[term] * freq / (freq + norm)))
        # Impact order: each term's documents best first; a query never looks further than the
        # MAX_POSTINGS strongest ones, so the rest are not kept (static pruning; it only matters
        # for common terms in large indexes).
        impact = itemgetter(1)
        for entries in postings.values():
            entries.sort(key=impact, reverse=True)  # stable: ties stay in document order
            del entries[MAX_POSTINGS:]
        self.postings = dict(postings)
        self.phrases = dict(self.phrases)
        anchors = defaultdict(list)
        for index, ordered, weight, length in phrase_terms:
            anchor = min(ordered, key=df.__getitem__)  # the rarest term
            anchors[anchor].append((index, frozenset(ordered), ordered, weight, length))
        self.phrase_anchors = dict(anchors)
        for term, frequency in df.items():
            if term.isascii() and term.isalpha() and len(term) >= 4:
                self.latin_df[term] = frequency

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
        if raw_length < 5 or not word.isalpha() or word in self.postings:
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
    def query_terms(self, query: str):
        """Weighted terms of a query: its own words, typo fixes, synonyms, bigrams."""
        weights: dict[str, float] = {}
        sequence: list[str] = []  # the query's own words in order (with typo fixes)

        def add(term, weight):
            if term in self.postings and weight > weights.get(term, 0):
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
                corrections = [] if term in self.postings else self.corrections(term, len(bare))
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
        expansions = synonyms().expansions(query_key)
        if raw_key != query_key:
            expansions += synonyms().expansions(raw_key)
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

    def _phrase_scores(self, query_key: str, query_sequence: list) -> dict[int, float]:
        """Bonus for documents whose keyword / meaning / title appears whole in the query.

        Contiguous (the phrase is a substring of the query) scores full; all of the phrase's
        words present in the same order with others between (商户被冻结 in 商户账户被冻结)
        scores a little less.
        """
        compact = query_key[: MAX_QUERY_CHARS // 2]
        if not compact:
            return {}
        total = len(compact.replace(" ", ""))
        bonus: dict[int, float] = {}
        query_terms = set(query_sequence)
        for term in query_terms:
            for index, terms, ordered, weight, length in self.phrase_anchors.get(term, ()):
                if terms <= query_terms and _in_order(ordered, query_sequence):
                    score = SCATTERED_PHRASE * PHRASE_BONUS * min(1.0, length / total) * weight
                    if score > bonus.get(index, 0):
                        bonus[index] = score
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
                entries = self.phrases.get(piece)
                if not entries:
                    continue
                coverage = len(piece.replace(" ", "")) / total
                value = EXACT_BONUS if piece == compact else PHRASE_BONUS * coverage
                for index, weight in entries:
                    score = value * weight
                    if score > bonus.get(index, 0):
                        bonus[index] = score
        return bonus

    def search(self, query: str, limit: int = 10) -> Results:
        query = (query or "").strip()[:MAX_QUERY_CHARS]
        if not query:
            return Results(hits=[])
        weights, query_key, sequence = self.query_terms(query)
        scores: dict[int, float] = {}
        get = scores.get
        for term, weight in weights.items():
            # Weaker terms (bigrams, synonyms) can change fewer places in the top results.
            depth = max(MIN_POSTINGS, int(MAX_POSTINGS * min(weight, 1.0)))
            for index, value in islice(self.postings[term], depth):
                scores[index] = get(index, 0.0) + weight * value
        for index, value in self._phrase_scores(query_key, sequence).items():
            scores[index] = get(index, 0.0) + value
        for index, boost in self.boosts.items():
            if index in scores:
                scores[index] *= boost
        exact_code = exact_index = None
        compact = T.normalize(query).strip()
        if CODE_RE.match(compact) and compact in self.by_code:
            exact_index = self.by_code[compact]
            exact_code = self.docs[exact_index].key
            scores[exact_index] = get(exact_index, 0.0) + EXACT_CODE
        else:
            for word in re.findall(r"(?<![0-9a-z])[0-9a-z]{2}(?![0-9a-z])", compact):
                if word in self.by_code and (word.isdigit() or word[0] == "a"):
                    position = self.by_code[word]
                    scores[position] = get(position, 0.0) + CODE_MENTION_BONUS
        if not scores:
            return Results(hits=[])
        ranked = heapq.nsmallest(limit + 1, scores.items(), key=lambda item: (-item[1], item[0]))
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
