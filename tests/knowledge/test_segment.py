"""Our compact segmenter gives exactly jieba's words (search mode, no HMM), in far less memory."""

import json
import stat
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.search import segment
from knowledge.search import text as T

CONTENT = Path(__file__).resolve().parents[2] / "knowledge" / "content"


@cache
def jieba_itself():
    import logging

    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in T.USER_WORDS:
        tokenizer.add_word(word, freq=segment.USER_WORD_FREQ)
    return tokenizer


@cache
def content_runs() -> list[str]:
    texts = [path.read_text("utf-8") for path in sorted(CONTENT.rglob("*.json"))]
    queries = json.loads((Path(__file__).parent / "search_queries.json").read_text("utf-8"))
    texts += [q["q"] for q in queries]
    runs = {m.group(0) for t in texts for m in T.RUN.finditer(T.normalize(t))}
    return sorted(r for r in runs if T.CJK_RUN.match(r))


def test_the_same_words_as_jieba_for_all_our_content():
    ours, theirs = T.jieba_tokenizer(), jieba_itself()
    runs = content_runs()
    assert len(runs) > 2000
    for run in runs:
        assert list(ours.cut_for_search(run)) == list(theirs.cut_for_search(run, HMM=False)), run


# Our characters, plus CJK outside jieba's range, Latin, digits, jieba's symbols, white space.
OTHERS = "㐀䶵龥鿿豈﨩abcXYZ019 -.#%&+_\r\n\t，。"
ALPHABET = "".join(sorted(set("".join(content_runs()))))[:3000] + OTHERS


@settings(max_examples=300)
@given(st.text(alphabet=ALPHABET, max_size=40))
def test_the_same_words_as_jieba_for_any_text(sentence):
    ours, theirs = T.jieba_tokenizer(), jieba_itself()
    assert list(ours.cut_for_search(sentence)) == list(theirs.cut_for_search(sentence, HMM=False))
    assert ours.lcut(sentence) == theirs.lcut(sentence, HMM=False)


def test_the_dictionary_is_small_and_cached_once_per_machine():
    segmenter = T.jieba_tokenizer()
    assert segmenter.keys.nbytes + segmenter.freqs.nbytes < 8 * 2**20
    assert segmenter.keys.size == len(jieba_itself().FREQ)
    path = segment.cache_path(T.USER_WORDS)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o644
    again = segment.load(T.USER_WORDS)
    assert (again.keys == segmenter.keys).all() and again.total == jieba_itself().total
    assert segmenter.freq("日切") == segment.USER_WORD_FREQ
    assert segmenter.freq("日") is not None and segmenter.freq("qq") is None
