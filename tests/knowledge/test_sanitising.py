"""Markdown from editors is rendered and sanitised: no script, no javascript: links."""

import pytest
from django.utils import translation

from knowledge.models import Article
from knowledge.rendering import render_inline, render_markdown
from tests.knowledge.helpers import article

pytestmark = pytest.mark.django_db

NASTY = [
    "<script>alert(1)</script>正文",
    "[点我](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<img src=x onerror="alert(1)">',
    '<p onclick="alert(1)" style="color:red">段落</p>',
    "<iframe src='https://evil.example'></iframe>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<svg onload=alert(1)>",
    '<a href="vbscript:msgbox(1)">x</a>',
]


@pytest.mark.parametrize("source", NASTY)
def test_dangerous_markup_is_removed(source):
    with translation.override("zh-hans"):
        html = str(render_markdown(source))
    lowered = html.lower()
    for bad in (
        "<script",
        "javascript:",
        "onerror",
        "onclick",
        "onload",
        "<iframe",
        "<img",
        "style=",
        "data:",
        "vbscript",
        "<svg",
    ):
        assert bad not in lowered, (source, html)


def test_markdown_features_survive():
    with translation.override("zh-hans"):
        html = str(
            render_markdown(
                "- **一**\n- 二\n\n[51](/codes/51/) [邮件](mailto:a@b.cn) [外链](https://example.com)"
            )
        )
    assert "<ul>" in html and "<li><strong>一</strong></li>" in html
    assert 'href="/codes/51/"' in html
    assert 'href="mailto:a@b.cn"' in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer"' in html


def test_internal_links_get_the_english_prefix():
    with translation.override("en"):
        html = str(
            render_markdown(
                "[a](/articles/x/) [b](/codes/51/) [c](/en/codes/05/) [d](https://e.com/codes/1/)"
            )
        )
    assert 'href="/en/articles/x/"' in html
    assert 'href="/en/codes/51/"' in html
    assert 'href="/en/codes/05/"' in html  # not doubled
    assert 'href="https://e.com/codes/1/"' in html


def test_inline_steps_have_no_paragraph_wrapper():
    with translation.override("zh-hans"):
        assert str(render_inline("先**核对**金额")) == "先<strong>核对</strong>金额"
        assert str(render_inline("<script>x</script>")) == ""


def test_editor_html_in_an_article_page_is_neutralised(client, content, editor):
    bad = article(
        cause_zh='<script>alert("x")</script>原因 [恶意](javascript:alert(1))',
        merchant_steps_zh="第一步<img src=x onerror=alert(1)>\n[第二步](javascript:void(0))",
        customer_script_zh="<b>别信</b>",
        title_zh="<i>标题</i>",
    )
    body = client.get(bad.get_absolute_url()).content.decode()
    main = body.split("<main", 1)[1]
    assert "<script>alert" not in main
    assert "javascript:" not in main
    assert "onerror" not in main
    assert "&lt;b&gt;别信&lt;/b&gt;" in main  # plain-text fields are escaped, not rendered
    assert "&lt;i&gt;标题&lt;/i&gt;" in main
    assert Article.objects.filter(pk=bad.pk).exists()
