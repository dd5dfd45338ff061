"""Walking a wizard tree: the answers in the URL → where the merchant is now.

Answers are tokens joined by dots in `?a=`: an option id (`many-cards`) or, on the code
question, the response code the merchant typed (`05`). `walk()` replays them against a tree and
returns None when they don't fit it (a stale or hand-edited link).

A code that is not in the table (an acquirer's private letter code, say `E1`) follows the code
question's option `unknown-code` when the tree has one, and the walk keeps the code itself, so
the outcome can name it and the ticket carries it.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from diagnosis.wizard.validation import analyse
from knowledge.bilingual import current_lang

SEPARATOR = "."
MAX_TOKENS = 30
MAX_ANSWERS_LENGTH = 400
CODE_RE = re.compile(r"^[0-9A-Z]{2}$")
UNKNOWN_CODE_OPTION = "unknown-code"


def text(value, lang: str | None = None) -> str:
    """The active language's text of a bilingual {"zh-hans": …, "en": …} value."""
    if not isinstance(value, dict):
        return ""
    lang = lang or ("en" if current_lang() == "en" else "zh-hans")
    return value.get(lang) or value.get("zh-hans") or ""


def normalize_code(raw: str) -> str:
    """What the merchant typed → a canonical code: full-width and spaces tolerated, uppercased."""
    value = unicodedata.normalize("NFKC", raw or "")
    return re.sub(r"[\s\-_.]", "", value).upper()[:10]


class WizardTree:
    """A tree (snapshot dict) with its indexes; immutable once built."""

    def __init__(self, data: dict, *, number: int, pk, stamp: str = ""):
        self.data = data
        self.number = number
        self.pk = pk
        self.stamp = stamp
        graph = analyse(data)
        self.questions = graph.questions
        self.outcomes = graph.outcomes
        self.depth = graph.depth
        self.max_questions = graph.max_questions()
        self.start = data.get("start")
        self.code_routes = data.get("code_routes") or {}
        self.categories = data.get("categories") or {}
        # Questions at which the tree itself names a bank-side outcome among the answers: with
        # an active bank announcement, a merchant who passed one of them gets that outcome first.
        self.bank_checkpoints = {}
        for qid, q in self.questions.items():
            for option in q.get("options") or []:
                target = self.outcomes.get(option.get("outcome"))
                if target and target.get("bank_side"):
                    self.bank_checkpoints[qid] = target["id"]
                    break
        # Questions from which a bank-side outcome can still be reached: where a bank incident
        # banner is still relevant to the merchant's answers.
        bank_side = {oid for oid, o in self.outcomes.items() if o.get("bank_side")}
        self.bank_reachable = {
            qid for qid, outs in graph.outcome_edges.items() if bank_side & set(outs)
        }
        changed = True
        while changed:
            changed = False
            for qid, nexts in graph.edges.items():
                if qid not in self.bank_reachable and self.bank_reachable & set(nexts):
                    self.bank_reachable.add(qid)
                    changed = True

    def category_name(self, key: str) -> str:
        return text(self.categories.get(key)) or key

    def remaining(self, qid: str) -> int:
        return self.depth.get(qid, 1)


@dataclass
class Answer:
    question: dict
    token: str
    option: dict | None = None  # the chosen option, or None when a code was typed
    code: str = ""

    @property
    def label(self) -> str:
        return text(self.option["label"]) if self.option else self.code


@dataclass
class Walk:
    tree: WizardTree
    answers: list = field(default_factory=list)
    question: dict | None = None  # where the merchant is now (None once finished)
    outcome: dict | None = None

    @property
    def tokens(self) -> list[str]:
        return [a.token for a in self.answers]

    @property
    def path(self) -> str:
        return SEPARATOR.join(self.tokens)

    @property
    def code(self) -> str:
        return next((a.code for a in self.answers if a.code), "")

    @property
    def code_known(self) -> bool:
        """The typed code is in the table (False for an unknown code and for no code)."""
        return bool(self.code) and self.code in self.tree.code_routes

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    @property
    def step_number(self) -> int:
        return len(self.answers) + 1

    @property
    def total_estimate(self) -> int:
        """Questions answered plus the most that can still come (the progress bar's length)."""
        if self.finished:
            return len(self.answers)
        return len(self.answers) + self.tree.remaining(self.question["id"])

    @property
    def bank_relevant(self) -> bool:
        """Could a bank-side cause still explain what the merchant answered? (Not once the
        answers point at the card, the PIN or the shop's own terminal.)"""
        if not self.answers:
            return True
        if self.finished:
            return bool(self.outcome.get("bank_side")) or self.bank_checkpoint_outcome() is not None
        return self.question["id"] in self.tree.bank_reachable

    def bank_checkpoint_outcome(self) -> dict | None:
        """The bank-side outcome named at the first bank checkpoint the merchant passed."""
        for answer in self.answers:
            oid = self.tree.bank_checkpoints.get(answer.question["id"])
            if oid:
                return self.tree.outcomes[oid]
        return None


def split_answers(raw: str | None) -> list[str] | None:
    """The `a` parameter as tokens; None when it is absurd (too long)."""
    raw = (raw or "").strip()
    if len(raw) > MAX_ANSWERS_LENGTH:
        return None
    tokens = [t for t in raw.split(SEPARATOR) if t]
    return tokens if len(tokens) <= MAX_TOKENS else None


def walk(tree: WizardTree, tokens: list[str] | None) -> Walk | None:
    """Replay the answers; None if they don't fit this tree."""
    if tokens is None or tree.start not in tree.questions:
        return None
    result = Walk(tree=tree, question=tree.questions[tree.start])
    for token in tokens:
        question = result.question
        if question is None:  # answers go on after an outcome was reached
            return None
        option = next((o for o in question.get("options") or [] if o.get("id") == token), None)
        if option is not None:
            answer = Answer(question=question, token=token, option=option)
            target = option
        else:
            code = normalize_code(token)
            if question.get("kind") != "code" or not CODE_RE.match(code):
                return None
            if code in tree.code_routes:
                target = tree.code_routes[code]
            else:
                target = unknown_code_option(question)
                if target is None:
                    return None
            answer = Answer(question=question, token=code, code=code)
        result.answers.append(answer)
        if target.get("next"):
            result.question = tree.questions.get(target["next"])
            if result.question is None:
                return None
        else:
            result.question = None
            result.outcome = tree.outcomes.get(target.get("outcome"))
            if result.outcome is None:
                return None
    return result


def unknown_code_option(question: dict) -> dict | None:
    """The code question's option that also takes codes missing from the table, if any."""
    return next(
        (o for o in question.get("options") or [] if o.get("id") == UNKNOWN_CODE_OPTION), None
    )


def route_code(tree: WizardTree, walk_: Walk, raw: str) -> tuple[str, str | None]:
    """(canonical code, error) for a code typed on the current code question."""
    code = normalize_code(raw)
    if not code:
        return code, "empty"
    if not CODE_RE.match(code):
        return code, "format"
    if code not in tree.code_routes and unknown_code_option(walk_.question or {}) is None:
        return code, "unknown"
    return code, None
