"""Template helpers of the troubleshooting wizard."""

from django import template

from knowledge.rendering import render_inline

register = template.Library()


@register.filter
def wizard_inline(value) -> str:
    """A one-line step from an article as sanitised inline HTML (Markdown rendered, so no
    literal `**` or backticks ever show; links keep the reader's language)."""
    return render_inline(str(value or ""))
