"""Stored text comes back escaped everywhere; sanitised Markdown cannot run script.

Payloads go into a ticket description, a reply, an internal note, a merchant's name, a bank
reference and (through the admin, as an editor) an article's Markdown; then every page and
export that shows them is parsed: no <script> of ours, no on* handler, no javascript: URL."""

import csv
import io
from html.parser import HTMLParser

import pytest
from django.test import Client

from tests import factories

PAYLOADS = [
    "<script>alert('xss1')</script>",
    "\"><img src=x onerror=alert('xss2')>",
    "<a href=\"javascript:alert('xss3')\">click</a>",
    "</textarea><svg onload=alert('xss4')>",
    "{{ 7*7 }} {% debug %}",
]
PAYLOAD_TEXT = " ".join(PAYLOADS)


class ActiveContent(HTMLParser):
    """Collects what a browser would run: inline script bodies, on* handlers, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            src = dict(attrs).get("src") or ""
            if not src.startswith("/") or src.startswith("//"):  # same-origin files only
                self.found.append(("script", src))
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append((tag, name, value))
            if name in ("href", "src", "action", "formaction", "xlink:href") and (
                (value or "").strip().lower().startswith(("javascript:", "data:text/html"))
            ):
                self.found.append((tag, name, value))
        if tag in ("iframe", "object", "embed", "base"):
            self.found.append((tag,))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(("inline-script", data[:80]))


def active_content(html: str) -> list:
    parser = ActiveContent()
    parser.feed(html)
    return parser.found


@pytest.mark.django_db
def test_payloads_render_escaped_everywhere(world):
    from diagnosis.escalations.services import escalation_create, escalation_mark_sent
    from diagnosis.tickets.services import ticket_reply

    merchant = world.merchant_a.merchant
    merchant.name = f"商户 {PAYLOADS[1]}"
    merchant.save()
    ticket = factories.ticket(
        merchant=merchant, user=world.merchant_a, description=f"描述 {PAYLOAD_TEXT}"
    )
    ticket_reply(ticket=ticket, author=world.merchant_a, body=f"回复 {PAYLOAD_TEXT}")
    ticket_reply(ticket=ticket, author=world.agent, body=f"备注 {PAYLOAD_TEXT}", internal=True)
    world.batch.items.all().delete() if world.batch.status == "draft" else None
    batch = escalation_create(actor=world.agent, tickets=[ticket], note=f"批注 {PAYLOAD_TEXT}")
    escalation_mark_sent(batch=batch, actor=world.agent)
    item = batch.items.get()
    agent = Client()
    factories.sign_in(agent, world.agent)
    agent.post(
        f"/desk/escalations/{batch.number}/items/{item.pk}/reference/",
        {"reference": PAYLOADS[1][:60]},
    )
    merchant_client = Client()
    factories.sign_in(merchant_client, world.merchant_a)
    pages = {
        "ticket list": merchant_client.get("/tickets/"),
        "ticket page": merchant_client.get(f"/tickets/{ticket.number}/"),
        "ticket page (en)": merchant_client.get(f"/en/tickets/{ticket.number}/"),
        "desk queue": agent.get("/desk/"),
        "desk queue search": agent.get("/desk/", {"q": PAYLOADS[0]}),
        "desk queue htmx": agent.get("/desk/", HTTP_HX_REQUEST="true"),
        "desk ticket": agent.get(f"/desk/tickets/{ticket.number}/"),
        "escalations": agent.get("/desk/escalations/"),
        "escalation": agent.get(f"/desk/escalations/{batch.number}/"),
        "print page": agent.get(f"/desk/escalations/{batch.number}/print/"),
        "search box": Client().get("/search/", {"q": PAYLOADS[1]}),
        "admin ticket merchant": _superuser(world).get(
            f"/admin/diagnosis/merchant/{merchant.pk}/change/"
        ),
    }
    shown = 0
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        assert active_content(html) == [], name
        for payload in PAYLOADS[:4]:
            assert payload not in html, (name, payload)
        shown += "&lt;script&gt;alert(" in html or "&lt;img src=x" in html
    assert shown >= 8  # the payloads were really shown (escaped), not just absent
    assert "49" not in pages["ticket page"].content.decode().split("描述")[1][:40]
    # Exports: CSV cells are plain text and never start a formula.
    export = agent.get(f"/desk/escalations/{batch.number}/export.csv")
    text = b"".join(export.streaming_content if export.streaming else [export.content])
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert any("<script>" in cell for row in rows for cell in row) or any(
        "alert" in cell for row in rows for cell in row
    )
    for row in rows:
        for cell in row:
            assert (
                not cell.startswith(("=", "+", "-", "@"))
                or cell.lstrip("-").replace(".", "").isdigit()
            ), cell


def _superuser(world):
    client = Client()
    factories.sign_in(client, world.superuser)
    return client


@pytest.mark.django_db
def test_editor_markdown_cannot_run_script(world):
    """An editor writes hostile Markdown/HTML through the admin; the published article page
    shows no active content."""
    from knowledge.models import Article

    article = world.article
    hostile = "\n\n".join(
        [
            "正常的**说明**",
            "<script>alert('md1')</script>",
            "[点这里](javascript:alert('md2'))",
            "<img src=x onerror=alert('md3')>",
            "<a href=\"javascript:alert('md4')\">x</a>",
            "<iframe src=//evil.test></iframe>",
            "![img](javascript:alert('md5'))",
            '<p style="x" onclick="alert(\'md6\')">p</p>',
            "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        ]
    )
    Article.objects.filter(pk=article.pk).update(
        merchant_steps_zh=hostile, summary_zh=f"摘要 {PAYLOADS[0]}", title_zh=f"标题 {PAYLOADS[1]}"
    )
    for url in (f"/articles/{article.slug}/", "/", f"/categories/{article.category.key}/"):
        response = Client().get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert active_content(html) == [], url
        assert "alert('md" not in html.replace("&#x27;", "'").split("<main")[0]
    page = Client().get(f"/articles/{article.slug}/").content.decode()
    assert "<strong>说明</strong>" in page  # Markdown still works
    assert "javascript:" not in page.lower()
