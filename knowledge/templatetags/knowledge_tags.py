"""Template filters for knowledge content (`{% load knowledge_tags %}`): editors' Markdown
rendered and sanitised, one-per-line lists, and a record's text in the active language."""

from django import template

from knowledge.bilingual import lines
from knowledge.rendering import render_inline, render_markdown, render_plain

register = template.Library()


@register.filter
def markdown(text):
    """Markdown → sanitised HTML (block)."""
    return render_markdown(text)


@register.filter
def plain(text):
    """Markdown → plain text (summaries: never a literal `**` on a page)."""
    return render_plain(text)


@register.filter
def markdown_inline(text):
    return render_inline(text)


@register.filter
def markdown_lines(text):
    """A one-item-per-line field → list of sanitised inline HTML items."""
    return [render_inline(line) for line in lines(text)]


@register.filter
def tr(obj, name):
    """`{{ article|tr:"cause" }}`: the field in the active language."""
    return obj.tr(name)
