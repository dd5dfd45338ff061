"""Chinese word segmentation: jieba's algorithm on a compact copy of jieba's dictionary.

jieba keeps its dictionary (≈ 500,000 words and word prefixes with their frequencies) as a
Python dict: about 70 MB in every process that segments text — more than the search index of
10,000 articles. Here the same dictionary is two sorted numpy arrays, the words as 64-bit keys
and their frequencies (≈ 6 MB), and `Segmenter` runs jieba's own search-mode segmentation
without HMM (`Tokenizer.cut_for_search(text, HMM=False)`, the only mode we use) on it,
producing exactly jieba's words (tests compare them with jieba itself).

A key is the word itself for words of up to three characters (21 bits per code point, so
there are no collisions) and a 63-bit hash of longer words (a collision between two of the
≈ 100,000 longer words is checked for when the arrays are built; one between a word and a
fragment of a text is about as likely as one in 10^13).

The arrays are built once per machine and jieba version from jieba's dictionary plus our
payment words (text.USER_WORDS), in a separate process so that no web worker ever holds the
big dict, and cached in the temporary directory, as jieba caches its own dictionary.
"""

import bisect
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
from array import array
from importlib import metadata
from math import log
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

REVISION = 1  # of the file format and of the key function
USER_WORD_FREQ = 200_000

# jieba's own patterns (jieba/__init__.py, version 0.42.1).
RE_ENG = re.compile("[a-zA-Z0-9]", re.U)
RE_HAN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
RE_SKIP = re.compile("(\r\n|\\s)", re.U)
HIGH_BIT = 1 << 63


def key(word: str) -> int:
    if len(word) <= 3:
        code = 0
        for char in word:
            code = (code << 21) | ord(char)
        return code
    digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") | HIGH_BIT


class Segmenter:
    def __init__(self, keys: np.ndarray, freqs: np.ndarray, total: int):
        self.keys = keys  # sorted uint64
        self.freqs = freqs  # uint32, same order
        self.total = total
        self._logtotal = log(total)
        self._key_list = array("Q", keys.tobytes())  # for bisect (no numpy per look-up)

    # --- the dictionary ----------------------------------------------------------------------
    def freq(self, word: str):
        """jieba's FREQ.get(word): the frequency (0 for a mere prefix), None when absent."""
        code = key(word)
        position = bisect.bisect_left(self._key_list, code)
        if position < len(self._key_list) and self._key_list[position] == code:
            return int(self.freqs[position])
        return None

    def _freqs(self, codes: np.ndarray) -> list:
        """Frequencies of many keys at once (-1 when absent)."""
        position = np.searchsorted(self.keys, codes)
        position[position == self.keys.size] = 0
        found = self.keys[position] == codes
        return np.where(found, self.freqs[position].astype(np.int64), -1).tolist()

    # --- jieba's algorithm ---------------------------------------------------------------
    def _dag(self, sentence: str):
        """jieba's get_DAG; also returns the frequencies it saw, for calc."""
        n = len(sentence)
        points = np.frombuffer(sentence.encode("utf-32-le", "surrogatepass"), "<u4")
        points = points.astype(np.uint64)
        one = self._freqs(points)
        two = self._freqs((points[:-1] << 21) | points[1:]) if n > 1 else []
        three = (
            self._freqs((points[:-2] << 42) | (points[1:-1] << 21) | points[2:]) if n > 2 else []
        )
        longer = {}
        dag = {}
        for k in range(n):
            ends = []
            i = k
            while i < n:
                size = i - k + 1
                if size == 1:
                    found = one[k]
                elif size == 2:
                    found = two[k]
                elif size == 3:
                    found = three[k]
                else:
                    found = self.freq(sentence[k : i + 1])
                    found = -1 if found is None else found
                    longer[k, i] = found
                if found < 0:
                    break
                if found:
                    ends.append(i)
                i += 1
            if not ends:
                ends.append(k)
            dag[k] = ends

        def frequency(start, end):  # FREQ.get(sentence[start:end + 1]) or 1
            size = end - start + 1
            if size == 1:
                found = one[start]
            elif size == 2:
                found = two[start]
            elif size == 3:
                found = three[start]
            else:
                found = longer.get((start, end), -1)
            return found if found > 0 else 1

        return dag, frequency

    def _cut_dag_no_hmm(self, sentence: str):
        dag, frequency = self._dag(sentence)
        n = len(sentence)
        route = {n: (0, 0)}
        logtotal = self._logtotal
        for idx in range(n - 1, -1, -1):
            route[idx] = max(
                (log(frequency(idx, x)) - logtotal + route[x + 1][0], x) for x in dag[idx]
            )
        x = 0
        buf = ""
        while x < n:
            y = route[x][1] + 1
            word = sentence[x:y]
            if RE_ENG.match(word) and len(word) == 1:
                buf += word
                x = y
            else:
                if buf:
                    yield buf
                    buf = ""
                yield word
                x = y
        if buf:
            yield buf

    def cut(self, sentence: str, HMM: bool = False):  # noqa: N803 - jieba's signature
        """jieba's Tokenizer.cut(sentence, HMM=False)."""
        if HMM:
            raise ValueError("only jieba's segmentation without HMM is implemented")
        for block in RE_HAN.split(sentence):
            if not block:
                continue
            if RE_HAN.match(block):
                yield from self._cut_dag_no_hmm(block)
            else:
                for part in RE_SKIP.split(block):
                    if RE_SKIP.match(part):
                        yield part
                    else:
                        yield from part

    def lcut(self, sentence: str, HMM: bool = False) -> list:  # noqa: N803
        return list(self.cut(sentence, HMM=HMM))

    def cut_for_search(self, sentence: str, HMM: bool = False):  # noqa: N803
        """jieba's Tokenizer.cut_for_search(sentence, HMM=False)."""
        for word in self.cut(sentence, HMM=HMM):
            if len(word) > 2:
                for i in range(len(word) - 1):
                    gram = word[i : i + 2]
                    if self.freq(gram):
                        yield gram
            if len(word) > 3:
                for i in range(len(word) - 2):
                    gram = word[i : i + 3]
                    if self.freq(gram):
                        yield gram
            yield word


# --- the compact dictionary ------------------------------------------------------------------
def cache_path(user_words) -> Path:
    try:
        version = metadata.version("jieba")
    except metadata.PackageNotFoundError:  # pragma: no cover - jieba is a dependency
        version = "?"
    digest = hashlib.sha256(repr((REVISION, version, list(user_words))).encode()).hexdigest()
    return Path(tempfile.gettempdir()) / f"declinedesk-jieba-{digest[:16]}.npz"


def dictionary_arrays(user_words) -> tuple[np.ndarray, np.ndarray, int]:
    """jieba's dictionary with the user words added, as (sorted keys, freqs, total)."""
    import warnings

    with warnings.catch_warnings():  # jieba's old regexes warn when compiled
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in user_words:
        tokenizer.add_word(word, freq=USER_WORD_FREQ)
    words = tokenizer.FREQ
    keys = np.fromiter(map(key, words), np.uint64, len(words))
    freqs = np.fromiter(words.values(), np.int64, len(words))
    if freqs.size and (freqs.min() < 0 or freqs.max() >= 2**32):
        raise ValueError("jieba frequencies out of range")
    order = np.argsort(keys, kind="stable")
    keys, freqs = keys[order], freqs[order].astype(np.uint32)
    if keys.size > 1 and bool((keys[1:] == keys[:-1]).any()):
        raise ValueError("two dictionary words share a key")
    return keys, freqs, int(tokenizer.total)


def write_cache(path: Path, user_words):
    keys, freqs, total = dictionary_arrays(user_words)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, keys=keys, freqs=freqs, total=np.asarray([total], np.uint64))
        os.chmod(temporary, 0o644)  # public data: other users' processes may share it
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_cache(path: Path) -> Segmenter:
    with np.load(path) as data:
        return Segmenter(data["keys"], data["freqs"], int(data["total"][0]))


_lock = threading.Lock()


def load(user_words) -> Segmenter:
    """The segmenter, from the cache file; the file is made (in a child process) if missing."""
    path = cache_path(user_words)
    with _lock:
        if not path.exists():
            root = Path(__file__).resolve().parents[2]
            command = (
                "import sys; from pathlib import Path;"
                "from knowledge.search import segment, text;"
                "segment.write_cache(Path(sys.argv[1]), text.USER_WORDS)"
            )
            environment = {**os.environ, "PYTHONPATH": str(root)}
            try:
                subprocess.run(  # noqa: S603 - our own interpreter and module
                    [sys.executable, "-c", command, str(path)],
                    check=True,
                    cwd=root,
                    env=environment,
                    timeout=300,
                    capture_output=True,
                )
            except (OSError, subprocess.SubprocessError) as error:
                logger.warning("Building the segmentation dictionary in-process: %s", error)
                try:
                    write_cache(path, user_words)
                except OSError:  # no writable temporary directory: keep it in memory only
                    return Segmenter(*dictionary_arrays(user_words))
        try:
            return _read_cache(path)
        except (OSError, ValueError, KeyError) as error:  # unreadable: build it here
            logger.warning("Segmentation dictionary cache %s unusable: %s", path, error)
            return Segmenter(*dictionary_arrays(user_words))
