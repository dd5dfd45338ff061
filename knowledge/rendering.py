"""Markdown from articles, codes and announcements → safe HTML.

Markdown is rendered with Python-Markdown, then sanitised with nh3 (an allowlist of tags and
attributes; only http, https and mailto links besides relative ones; no scripts, no styles, no
`javascript:` URLs, even when an editor typed raw HTML). Relative links in content are written
for the Chinese site (`/articles/<slug>/`, `/codes/51/`); on English pages they get the `/en`
prefix so a reader stays in their language.

Summaries are plain text; `render_plain` turns any Markdown an editor typed into them anyway into
the words alone, so no page ever shows a literal `**`.
"""

import html as html_lib
import re
from functools import lru_cache

import markdown as markdown_lib
import nh3
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "blockquote",
    "h3",
    "h4",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}
INTERNAL = re.compile(r"^/(?:articles|codes|categories|search|announcements|diagnose|tickets)/")


def _home_prefix() -> str:
    return reverse("knowledge:home")  # "/" in Chinese, "/en/" in English


def _link_filter(prefix):
    def attribute_filter(tag, attribute, value):
        if tag == "a" and attribute == "href":
            value = value.strip()
            if value.startswith("//"):
                return None
            if prefix != "/" and INTERNAL.match(value):
                return prefix + value[1:]
        return value

    return attribute_filter


@lru_cache(maxsize=4096)
def _render(text: str, prefix: str, inline: bool) -> str:
    html = markdown_lib.markdown(text, extensions=["sane_lists"], output_format="html")
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=_link_filter(prefix),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def render_markdown(text: str) -> SafeString:
    """Block Markdown (paragraphs, lists) as sanitised HTML for the active language."""
    if not text or not text.strip():
        return mark_safe("")  # noqa: S308
    return mark_safe(_render(text, _home_prefix(), False))  # noqa: S308 - sanitised by nh3


def render_inline(text: str) -> SafeString:
    """One line (a step) as sanitised HTML without the surrounding paragraph."""
    if not text or not text.strip():
        return mark_safe("")  # noqa: S308
    return mark_safe(_render(text, _home_prefix(), True))  # noqa: S308 - sanitised by nh3


@lru_cache(maxsize=4096)
def _plain(text: str) -> str:
    html = markdown_lib.markdown(text, extensions=["sane_lists"], output_format="html")
    words = nh3.clean(html, tags=set(), attributes={}, strip_comments=True)
    return " ".join(html_lib.unescape(words).split())


def render_plain(text: str) -> str:
    """Markdown (or plain text) → its words as plain text, for summaries and previews."""
    if not text or not text.strip():
        return ""
    return _plain(text)
