"""The content rules of issue 15 as small text checks, shared by the knowledge and wizard tests.

- `invites_retry(text)`: a sentence that tells the merchant to run the card again ("再试一次",
  "try again") without a negation ("不要再刷", "don't retry") or a check before it in the same
  clause ("查清楚之前不要再刷", "only once you know it failed").
- `says_check_last(text)`: tells the merchant to look up the last transaction first.
- `markdown_markers(text)`: literal Markdown that a page shows as text (`**`, `__`, backticks,
  a heading `#`).
"""

import re
from html import unescape

RETRY = re.compile(
    r"再试|重试|重刷|再刷|重新刷|重新插卡|重新发起|重新交易|再做一[笔次]|再来一次|再输一次"
    r"|(?i:\bretry|\btry (?:it |this card |once )?(?:again|more)\b|\bonce more\b"
    r"|\bswipe (?:it )?again\b|\brun (?:it|the sale|the card|the payment) (?:again|once more)\b"
    r"|\bre-?swipe\b|\bre-?run\b)"
)
NEGATION = re.compile(
    r"不要|别|勿|不能|不必|不用|不需要|无需|没用|不会|禁止|停止|不再|没法|之前|以前|才|"
    r"(?i:\bdon't\b|\bdo not\b|\bnever\b|\bnot\b|\bno\b|\bstop\b|\bwon't\b|\bwithout\b"
    r"|\bavoid\b|\brather than\b|\binstead of\b|\buntil\b|\bbefore\b|\bonly (?:if|once|after)\b)"
)
# …or right after it: a consequence that warns against it ("再刷一次会重复扣款", "would charge").
AFTER = re.compile(
    r"^.{0,6}?(?:也没用|没用|不会|会重复|会扣|会锁|也刷不|也过不了|也不行|没有用|也一样|还会失败|都会失败)"
    r"|(?i:^.{0,12}?\b(?:would|won't|will (?:charge|fail|lock)|is pointless)\b)"
)
# A clause ends at these; a negation or a condition must be in the same clause as the retry.
CLAUSE = re.compile(r"[，。；！？：,.;!?:\n（）()—–]")
CHECK_LAST = re.compile(
    r"查.{0,8}(?:上一笔|最后一笔|末笔|这一笔|这笔)|(?i:last transaction|look (?:the sale|it) up)"
)
MARKDOWN = re.compile(r"\*\*|__|`|(?m:^\s{0,3}#{1,6}\s)")


def clauses(text: str) -> list[str]:
    return [c for c in CLAUSE.split(text or "") if c.strip()]


def invites_retry(text: str) -> list[str]:
    """The clauses of `text` that invite another attempt (empty: none)."""
    found = []
    for clause in clauses(text):
        for match in RETRY.finditer(clause):
            if not NEGATION.search(clause[: match.start()]) and not AFTER.search(
                clause[match.end() :]
            ):
                found.append(clause.strip())
                break
    return found


def says_check_last(text: str) -> bool:
    return bool(CHECK_LAST.search(text or ""))


def markdown_markers(text: str) -> list[str]:
    return MARKDOWN.findall(text or "")


def visible_text(html: str) -> str:
    """A page fragment's text without its labels ("能否重试" / "Retry?" is a question, not
    advice): <dt> terms and headings dropped, tags removed, entities decoded."""
    html = re.sub(r"(?s)<dt[^>]*>.*?</dt>|<h2[^>]*>.*?</h2>", " ", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))
