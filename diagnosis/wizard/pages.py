"""What the wizard screens show, built from a walk (selectors for the views; no writes here)."""

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from diagnosis.core import permissions
from diagnosis.wizard.engine import SEPARATOR, Walk, WizardTree, text

# Shown under the outcome's own "who acts" note when the outcome has none (older versions).
WHO_ACTS_HINT = {
    "cardholder": _("需要持卡人处理，比如联系发卡行或换卡。"),
    "merchant": _("你在店里就能处理。"),
    "acquirer": _("需要联系你的收单机构（给你装POS的银行或支付公司）。"),
    "issuer": _("在发卡行那边：请顾客换卡或改用其他方式付款，发卡行处理好之前这张卡用不了。"),
}
# Badges that invite another attempt; "no" and "check_first" never do.
RETRY_INVITING = {"yes", "later", "after_fix"}


def safe_reverse(name: str, *args, fallback: str = "") -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


# --- URLs ---


def step_url(number: int, tokens, *, draft: bool = False, run_token: str = "") -> str:
    """/diagnose/?v=3&a=no-code.many-cards — the version and the answers so far."""
    base = reverse("diagnosis:wizard")
    if not tokens and not draft:
        return base
    params = {"v": number, "a": SEPARATOR.join(tokens)}
    if draft:
        params = {"draft": "1", "a": SEPARATOR.join(tokens)}
    if run_token:
        params["r"] = run_token
    return f"{base}?{urlencode(params)}"


# --- announcements ---


def active_announcements(user) -> list:
    """Active announcements for the merchant's acquirer and for all banks; anonymous visitors
    (whose bank is unknown) get only those for all banks.

    Uses the knowledge base's cached pool (0–1 queries), plus one query for a merchant's acquirer.
    """
    from diagnosis.models import Merchant
    from knowledge.selectors import announcement_active

    acquirer_id = None
    if permissions.is_merchant_user(user):
        acquirer_id = (
            Merchant.objects.filter(pk=user.merchant_id)
            .values_list("acquirer_id", flat=True)
            .first()
        )
    result = [
        item
        for item in announcement_active()
        if item.bank_id is None or (acquirer_id is not None and item.bank_id == acquirer_id)
    ][:5]
    for item in result:
        item.detail_url = safe_reverse("knowledge:announcement_detail", item.pk)
    return result


# --- screens ---


def question_screen(walk: Walk, *, draft: bool, announcements: list) -> dict:
    tree = walk.tree
    question = walk.question
    options = [
        {
            "label": text(o.get("label")),
            "url": step_url(tree.number, [*walk.tokens, o["id"]], draft=draft),
        }
        for o in question.get("options") or []
    ]
    return {
        "question": {
            "id": question["id"],
            "kind": question.get("kind"),
            "text": text(question.get("text")),
            "help": text(question.get("help")),
            "options": options,
            "bank_checkpoint": question["id"] in tree.bank_checkpoints,
        },
        "show_announcements_here": bool(announcements) and question["id"] in tree.bank_checkpoints,
    }


def answered_steps(walk: Walk, *, draft: bool) -> list[dict]:
    return [
        {
            "question": text(answer.question.get("text")),
            "answer": answer.label,
            "change_url": step_url(walk.tree.number, walk.tokens[:i], draft=draft),
        }
        for i, answer in enumerate(walk.answers)
    ]


def _articles(slugs: list[str], code: str = "") -> dict:
    """{slug: article view} of the published ones (1 query). With a code, each says whether it
    was written for that code (`for_code`) and for how many codes (`code_count`)."""
    from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from knowledge.bilingual import lines
    from knowledge.models import Article
    from knowledge.rendering import render_plain

    links = Article.codes.through.objects.filter(article_id=OuterRef("pk"))
    articles = Article.objects.published().filter(slug__in=slugs)
    if code:
        count = links.order_by().values("article_id").annotate(n=Count("pk")).values("n")
        articles = articles.annotate(
            for_code=Exists(links.filter(responsecode__code=code)),
            code_count=Coalesce(Subquery(count, output_field=IntegerField()), 0),
        )
    else:
        articles = articles.annotate(for_code=Value(False), code_count=Value(0))
    found = {}
    for article in articles.only(
        "slug", "title_zh", "title_en", "summary_zh", "summary_en",
        "merchant_steps_zh", "merchant_steps_en",
    ):  # fmt: skip
        found[article.slug] = {
            "slug": article.slug,
            "title": article.title,
            "summary": render_plain(article.summary),
            "steps": lines(article.tr("merchant_steps")),
            "url": safe_reverse(
                "knowledge:article_detail", article.slug, fallback=f"/articles/{article.slug}/"
            ),
            "for_code": bool(article.for_code),
            "code_count": article.code_count,
        }
    return found


def ordered_articles(outcome: dict, articles: dict) -> list[dict]:
    """The outcome's published articles: those written for the typed code first (the most
    specific — fewest codes — first), then the rest in the outcome's order."""
    listed = [articles[s] for s in outcome.get("articles") or [] if s in articles]
    position = {a["slug"]: n for n, a in enumerate(listed)}
    return sorted(
        listed,
        key=lambda a: (
            not a["for_code"],
            a["code_count"] if a["for_code"] else 0,
            position[a["slug"]],
        ),
    )


def _outcome_view(tree: WizardTree, outcome: dict, articles: dict) -> dict:
    return {
        "id": outcome["id"],
        "title": text(outcome.get("title")),
        "summary": text(outcome.get("summary")),
        "category": outcome.get("category"),
        "category_name": tree.category_name(outcome.get("category")),
        "bank_side": bool(outcome.get("bank_side")),
        "causes": [text(c) for c in outcome.get("causes") or []],
        "articles": ordered_articles(outcome, articles),
    }


def lead_outcome(walk: Walk, announcements: list) -> tuple[dict, dict | None]:
    """(leading outcome, the outcome the answers reached if a bank-side one leads instead)."""
    reached = walk.outcome
    if announcements and not reached.get("bank_side"):
        bank = walk.bank_checkpoint_outcome()
        if bank is not None:
            return bank, reached
    return reached, None


def response_code_facts(code: str):
    from knowledge.models import ResponseCode

    if not code:
        return None
    return ResponseCode.objects.filter(code=code).select_related("category").first()


def who_and_retry(outcome: dict, code_row) -> dict:
    """Who acts and whether to retry, as the outcome states them (explicit content, never a
    category default). The typed code's own retry advice replaces the outcome's only when both
    say the same about retrying; the outcome is never less cautious than a code leading to it
    (publishing checks that)."""
    from diagnosis.models import WizardOutcome

    who, retry = outcome.get("who_acts") or "", outcome.get("retry") or ""
    advice = text(outcome.get("retry_advice"))
    if code_row is not None and code_row.retry == retry and code_row.tr("retry_advice"):
        advice = code_row.tr("retry_advice")
    return {
        "who_acts": who,
        "who_acts_label": dict(WizardOutcome.WhoActs.choices).get(who, who),
        "who_acts_hint": text(outcome.get("who_acts_note")) or WHO_ACTS_HINT.get(who, ""),
        "retry": retry,
        "retry_label": dict(WizardOutcome.Retry.choices).get(retry, retry),
        "retry_advice": advice,
        "retry_inviting": retry in RETRY_INVITING,
    }


def answers_summary(walk: Walk, outcome: dict) -> str:
    """A readable account of the run, for the ticket (in the merchant's language)."""
    tree = walk.tree
    lines = [gettext("排查向导（第 %(number)s 版）的回答：") % {"number": tree.number}]
    if walk.code:
        lines.append(gettext("应答码：%(code)s") % {"code": walk.code})
    for n, answer in enumerate(walk.answers, 1):
        lines.append(f"{n}. {text(answer.question.get('text'))} → {answer.label}")
    lines.append(
        gettext("结论：%(title)s（%(category)s）")
        % {
            "title": text(outcome.get("title")),
            "category": tree.category_name(outcome.get("category")),
        }
    )
    return "\n".join(lines)


def ticket_link(walk: Walk, outcome: dict) -> str:
    params = {}
    if walk.code:
        params["code"] = walk.code
    params["category"] = outcome.get("category") or ""
    params["summary"] = answers_summary(walk, outcome)
    return f"{reverse('diagnosis:ticket_new')}?{urlencode(params)}"


def outcome_screen(walk: Walk, *, announcements: list) -> dict:
    tree = walk.tree
    lead, reached = lead_outcome(walk, announcements)
    slugs = list(lead.get("articles") or [])
    if reached is not None:
        slugs += [s for s in reached.get("articles") or [] if s not in slugs]
    known = walk.code_known
    articles = _articles(slugs, walk.code if known else "")  # one query for both outcomes
    code_row = response_code_facts(walk.code) if known else None
    return {
        "outcome": _outcome_view(tree, lead, articles),
        "reached": _outcome_view(tree, reached, articles) if reached is not None else None,
        "bank_lead": reached is not None,
        "code": walk.code,
        "code_known": known,
        "code_row": code_row,
        "code_url": safe_reverse("knowledge:code_detail", walk.code) if known else "",
        "facts": who_and_retry(lead, code_row),
        "ticket_url": ticket_link(walk, lead),
        "lead_id": lead["id"],
    }


def api_tree(tree: WizardTree) -> dict:
    """PRODUCT.md's shape: {"start", "nodes": [{"id", "question", "options": [{"label", "next",
    "outcome"}]}], "outcomes": [{"id", "title", "category", "articles": [{"title", "url"}]}]}.

    On the code question, after its own options, each response code the merchant may type is one
    more option whose label is the code itself ("51"), so the whole tree is in the one shape.
    """
    slugs = sorted({s for o in tree.outcomes.values() for s in o.get("articles") or []})
    articles = _articles(slugs)
    nodes = []
    for qid, question in tree.questions.items():
        options = [
            {"label": text(o.get("label")), "next": o.get("next"), "outcome": o.get("outcome")}
            for o in question.get("options") or []
        ]
        if question.get("kind") == "code":
            options += [
                {"label": code, "next": route.get("next"), "outcome": route.get("outcome")}
                for code, route in sorted(tree.code_routes.items())
            ]
        nodes.append({"id": qid, "question": text(question.get("text")), "options": options})
    outcomes = [
        {
            "id": oid,
            "title": text(outcome.get("title")),
            "category": outcome.get("category"),
            "articles": [
                {"title": articles[s]["title"], "url": articles[s]["url"]}
                for s in outcome.get("articles") or []
                if s in articles
            ],
        }
        for oid, outcome in tree.outcomes.items()
    ]
    return {"start": tree.start, "nodes": nodes, "outcomes": outcomes}
