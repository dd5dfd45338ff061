"""Text → search terms, the same way for documents and queries, in Chinese and English.

- Text is normalised (NFKC folds full-width letters and digits, lower case, curly quotes).
- Chinese runs are segmented with jieba's algorithm (search mode, so 信用卡 also yields 信用) and
  dictionary plus a small dictionary of payment terms, loaded once per process, lazily, in a
  compact form (knowledge.search.segment); every run also yields its
  character bigrams as secondary terms (prefixed with `~`), which keep recall when jieba cuts a
  query differently from the article.
- Latin runs are split into words, stop words dropped, and reduced with a light stemmer
  (`declined`, `declines`, `decline` → `declin`).
"""

import re
import threading
import unicodedata
from functools import lru_cache

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
RUN = re.compile(rf"[{CJK}]+|[a-z0-9]+(?:'[a-z0-9]+)*(?:-[a-z0-9]+(?:'[a-z0-9]+)*)*")
CJK_RUN = re.compile(rf"^[{CJK}]+$")
BIGRAM = "~"

# Payment words jieba does not know or cuts badly (日切中 → 日 / 切中). Frequencies are high so
# these win over the general dictionary.
USER_WORDS = [
    "应答码",
    "返回码",
    "错误码",
    "余额不足",
    "额度不足",
    "可用额度",
    "临时额度",
    "发卡行",
    "发卡方",
    "发卡银行",
    "收单行",
    "收单方",
    "收单机构",
    "交换中心",
    "银联",
    "云闪付",
    "闪付",
    "网银",
    "手机银行",
    "签到",
    "签退",
    "重新签到",
    "日切",
    "日终",
    "预授权",
    "磁条",
    "芯片",
    "消磁",
    "吞卡",
    "没收卡",
    "风控",
    "套现",
    "挂失",
    "冻结",
    "止付",
    "睡眠卡",
    "未激活",
    "降级交易",
    "凭证号",
    "批次号",
    "参考号",
    "商户号",
    "终端号",
    "密码键盘",
    "刷不了",
    "刷不出",
    "刷不出来",
    "没网",
    "断网",
    "通讯失败",
    "通讯故障",
    "超时",
    "对账",
    "对账不平",
    "结算",
    "撤销",
    "冲正",
    "退货",
    "限额",
    "单日限额",
    "月限额",
    "小票",
    "签购单",
    "打印纸",
    "死机",
    "闪退",
    "黑屏",
    "重启",
    "密钥",
    "主密钥",
    "工作密钥",
    "校验错",
    "扫码",
    "二维码",
    "收款码",
    "信用卡",
    "借记卡",
    "储蓄卡",
    "有效期",
    "过期卡",
    "无效卡",
    "无效商户",
    "无效金额",
    "无效交易",
    "原交易",
    "不予承兑",
    "持卡人",
    "商户",
    "终端",
    "拒绝交易",
    "交易拒绝",
    "受限制",
]

ZH_STOP = set(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "哦",
        "嘛",
        "是",
        "我",
        "你",
        "您",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "这",
        "那",
        "这个",
        "那个",
        "这张",
        "那张",
        "个",
        "张",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "什么",
        "为什么",
        "为啥",
        "咋",
        "咋办",
        "一直",
        "老是",
        "总是",
        "还",
        "也",
        "都",
        "就",
        "又",
        "要",
        "会",
        "能",
        "能不能",
        "可以",
        "在",
        "和",
        "与",
        "或",
        "及",
        "跟",
        "把",
        "被",
        "给",
        "让",
        "请",
        "一下",
        "显示",
        "提示",
        "说",
        "出现",
        "时候",
        "的话",
        "有",
        "没有",
        "之后",
        "以后",
        "然后",
        "但是",
        "可是",
        "如果",
    ]
)
EN_STOP = set(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "as",
        "so",
        "if",
        "but",
        "i",
        "me",
        "my",
        "we",
        "our",
        "us",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "whom",
        "how",
        "why",
        "when",
        "where",
        "there",
        "here",
        "do",
        "does",
        "did",
        "doing",
        "done",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "just",
        "please",
        "about",
        "into",
        "than",
        "then",
        "also",
        "very",
        "really",
        "any",
        "some",
        "has",
        "have",
        "had",
        "having",
        "get",
        "got",
        "s",
        "t",
    ]
)
# Contractions: the apostrophe is dropped (won't → wont) and the word kept as a plain term.

_jieba = None
_jieba_lock = threading.Lock()


def jieba_tokenizer():
    """The process-wide segmenter (jieba's algorithm and dictionary with our payment words, in
    compact form: see knowledge.search.segment), created on first use only."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                from knowledge.search import segment

                _jieba = segment.load(USER_WORDS)
    return _jieba


def strip_markdown(text: str) -> str:
    """Markdown to plain words: link targets and emphasis markers are not content."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text or "")
    return re.sub(r"[*_`#>]+", " ", text)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return text.replace("’", "'").replace("‘", "'").replace("`", "'")


IRREGULAR = {
    "froze": "freeze",
    "frozen": "freeze",
    "stole": "steal",
    "stolen": "steal",
    "paid": "pay",
    "broke": "break",
    "broken": "break",
    "took": "take",
    "taken": "take",
    "ran": "run",
    "sent": "send",
    "gave": "give",
    "given": "give",
    "wrote": "write",
    "written": "write",
    "chose": "choose",
    "chosen": "choose",
    "ate": "eat",
    "eaten": "eat",
    "kept": "keep",
    "went": "go",
    "gone": "go",
    "shown": "show",
    "children": "child",
    "women": "woman",
    "men": "man",
    "people": "person",
}


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English stemmer: plurals, -ed, -ing, -ly, -ment, -ation, final e and y."""
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    word = IRREGULAR.get(word, word)
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith(("ss", "us", "is")):
        pass
    elif word.endswith(("ches", "shes", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s"):
        word = word[:-1]
    for suffix, minimum in (("ing", 3), ("ed", 3), ("ly", 4), ("ment", 3), ("ation", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("able") and len(word) > 7:
        word = word[:-4]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if word.endswith("y") and len(word) > 4 and word[-2] not in "aeiou":
        word = word[:-1]
    if word.endswith("at") and len(word) >= 7:
        word = word[:-2]
    return word


@lru_cache(maxsize=200_000)
def latin_terms(run: str) -> tuple[str, ...]:
    """Words of one Latin run (`pre-authorization` → pre, authoriz, preauthoriz)."""
    parts = run.split("-")
    terms = [stem(part) for part in parts if part.replace("'", "") not in EN_STOP]
    if len(parts) > 1:
        terms.append(stem("".join(parts)))
    return tuple(term for term in terms if term)


@lru_cache(maxsize=200_000)
def cjk_terms(run: str) -> tuple[str, ...]:
    words = [w for w in jieba_tokenizer().cut_for_search(run, HMM=False) if w not in ZH_STOP]
    if len(run) >= 2:
        words.extend(BIGRAM + run[i : i + 2] for i in range(len(run) - 1))
    return tuple(words)


def tokenize(text: str) -> list[str]:
    """All terms of a text, in order, repeated as often as they occur (for term frequency)."""
    terms: list[str] = []
    for match in RUN.finditer(normalize(text)):
        run = match.group(0)
        if CJK_RUN.match(run):
            terms.extend(cjk_terms(run))
        else:
            terms.extend(latin_terms(run))
    return terms


def phrase_key(text: str) -> str:
    """A comparable form of a short phrase: Chinese as written, English words stemmed.

    `phrase_key("Card is frozen")` == `phrase_key("card frozen")` == "card frozen".
    """
    units = []
    for match in RUN.finditer(normalize(text)):
        run = match.group(0)
        if CJK_RUN.match(run):
            units.append(run)
        else:
            units.extend(stem(p) for p in run.split("-") if p.replace("'", "") not in EN_STOP)
    return " ".join(unit for unit in units if unit)


@lru_cache(maxsize=8192)  # result titles and summaries come back again and again
def highlight_units(text: str) -> tuple:
    """(start, end, kind, value) of each Latin word / Chinese run in `text` (original offsets)."""
    normalized = normalize(text)
    if len(normalized) != len(text):  # NFKC changed the length (rare ligatures): no offsets
        return ()
    units = []
    for match in RUN.finditer(normalized):
        run = match.group(0)
        if CJK_RUN.match(run):
            units.append((match.start(), match.end(), "cjk", run))
        else:
            for word in re.finditer(r"[a-z0-9']+", run):
                units.append(
                    (
                        match.start() + word.start(),
                        match.start() + word.end(),
                        "latin",
                        stem(word.group(0)),
                    )
                )
    return tuple(units)
