"""The revision history shows a readable side-by-side diff (both languages), escaped."""

import re

import pytest

from knowledge.diffing import side_by_side
from knowledge.models import Article
from tests import factories

pytestmark = pytest.mark.django_db


def test_changed_words_are_marked_on_each_side():
    before, after = side_by_side("先核对金额，再换卡", "先核对余额，再换卡")
    assert before == "先核对<del>金</del>额，再换卡"
    assert after == "先核对<ins>余</ins>额，再换卡"
    before, after = side_by_side("Ask the customer", "Ask the cardholder")
    assert before == "Ask the <del>customer</del>" and after == "Ask the <ins>cardholder</ins>"


def test_the_diff_escapes_what_editors_typed():
    before, after = side_by_side("<b>x</b>", "<script>alert(1)</script>")
    assert "<script" not in after and after.startswith("&lt;")
    assert "<b>" not in before and "&lt;" in before


def test_the_history_page_shows_both_languages_side_by_side(client, content):
    editor = factories.lead_editor()  # publishes directly (no review before publish)
    factories.sign_in(client, editor)
    article = Article.objects.get(slug="insufficient-balance")
    data = {
        "slug": article.slug,
        "category": article.category_id,
        "status": article.status,
        "codes": [c.pk for c in article.codes.all()],
        "related": [a.pk for a in article.related.all()],
        "votes-TOTAL_FORMS": "0",
        "votes-INITIAL_FORMS": "0",
        "votes-MIN_NUM_FORMS": "0",
        "votes-MAX_NUM_FORMS": "1000",
        "review_by": article.review_by.isoformat(),
    }
    for field in Article._meta.get_fields():
        name = getattr(field, "name", "")
        if name.endswith(("_zh", "_en")):
            data[name] = getattr(article, name)
    data.update(title_zh=article.title_zh + "（新）", title_en=article.title_en + " (new)")
    response = client.post(f"/admin/knowledge/article/{article.pk}/change/", data)
    assert response.status_code == 302, response.content[:500]
    body = client.get(f"/admin/knowledge/article/{article.pk}/revisions/").content.decode()
    assert re.search(r"<ins>[^<]*新[^<]*</ins>", body)
    assert re.search(r"<ins>[^<]*new[^<]*</ins>", body)
    assert 'class="revision-diff"' in body
