"""Template helpers of the troubleshooting wizard."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


@register.filter
def wizard_inline(value) -> str:
    """A one-line step from an article: **bold** kept, Markdown links reduced to their text.

    The text is escaped first; the only HTML added is our own <strong>, so it is safe.
    """
    text = _LINK.sub(r"\1", str(value or ""))
    return mark_safe(_BOLD.sub(r"<strong>\1</strong>", escape(text)))  # noqa: S308
