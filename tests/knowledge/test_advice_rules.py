"""The advice-safety checks themselves, pinned by examples (they guard the content in
test_advice_safety.py and test_wizard_safety.py; a weaker check would let unsafe advice in).
Each example is one edge: a negation before the retry, a warning after it, a check elsewhere in
the sentence, two retries in one clause, empty input."""

import pytest

from tests.knowledge.advice_rules import (
    clauses,
    invites_retry,
    markdown_markers,
    says_check_last,
    visible_text,
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("请再试一次。", ["请再试一次"]),
        ("Please try again.", ["Please try again"]),
        ("先查上一笔。再刷一次！", ["再刷一次"]),  # only the clause that invites it
        ("不要再刷，先查上一笔。", []),  # a negation before it
        ("查清楚之前不要再刷。", []),
        ("Don't retry the card.", []),
        ("Only once you know it failed, run it again.", ["run it again"]),  # other clause
        ("only once you know it failed run it again", []),  # same clause: a condition
        ("再刷一次会重复扣款。", []),  # a warning right after it
        ("Swiping it again would charge twice.", []),
        ("retry now and do not wait", ["retry now and do not wait"]),  # negation after: invites
        ("it would help to retry", ["it would help to retry"]),  # warning word before: invites
        ("retry and retry again", ["retry and retry again"]),  # one clause counted once
        ("", []),
        (None, []),
    ],
)
def test_invites_retry(text, found):
    assert invites_retry(text) == found


def test_clauses_split_at_punctuation_and_drop_blank_ones():
    assert clauses("先查。 。再刷，then stop") == ["先查", "再刷", "then stop"]
    assert clauses(None) == []


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("先查一下上一笔是否成功", True),
        ("Check the last transaction first.", True),
        ("Look it up in the report.", True),
        ("请再试一次", False),
        ("", False),
        (None, False),
    ],
)
def test_says_check_last(text, says):
    assert says_check_last(text) is says


def test_markdown_markers():
    assert markdown_markers("**bold**, __u__ and `code`\n## Heading\nC# is fine") == [
        "**",
        "**",
        "__",
        "__",
        "`",
        "`",
        "## ",
    ]
    assert markdown_markers("plain text") == []
    assert markdown_markers(None) == []


def test_visible_text_drops_labels_and_headings_and_decodes_entities():
    html = (
        '<dl><dt class="k">能否重试</dt><dd>不可以</dd></dl>'
        '<h2 id="x">Retry?</h2><p>A &amp; <b>B</b></p>'
    )
    text = visible_text(html)
    assert "能否重试" not in text
    assert "Retry?" not in text
    assert "不可以" in text
    assert " ".join(text.split()) == "不可以 A & B"
