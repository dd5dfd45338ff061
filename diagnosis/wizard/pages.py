"""What the wizard screens show, built from a walk (selectors for the views; no writes here)."""

from collections import Counter
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from diagnosis.core import permissions
from diagnosis.wizard.engine import SEPARATOR, Walk, WizardTree, text

# Who acts and whether to retry when no code was given: from the codes that lead straight to the
# outcome (computed at publish time, see `outcome_facts`), else from the outcome's category.
CATEGORY_DEFAULTS = {
    "funds_limits": ("cardholder", "after_fix"),
    "card_status": ("cardholder", "no"),
    "data_entry": ("merchant", "after_fix"),
    "pin": ("cardholder", "after_fix"),
    "terminal": ("merchant", "after_fix"),
    "network": ("merchant", "later"),
    "issuer_system": ("issuer", "later"),
    "acquirer_config": ("acquirer", "after_fix"),
    "risk_compliance": ("issuer", "no"),
    "approved_or_info": ("merchant", "no"),
}
# When codes disagree, the more cautious advice wins.
RETRY_CAUTION = ["no", "after_fix", "later", "yes"]

RETRY_ADVICE = {
    "yes": _("可以马上再试一次；如果还是不行，不要反复重刷。"),
    "no": _("不要再用这张卡重试。请顾客换一张卡，或改用扫码等其他支付方式。"),
    "later": _("过几分钟再试一次；一直不行就请顾客改用其他支付方式。"),
    "after_fix": _("先按下面的办法把问题解决，解决之后再试。"),
}
WHO_ACTS_HINT = {
    "cardholder": _("需要持卡人处理，比如联系发卡行或换卡。"),
    "merchant": _("你在店里就能处理。"),
    "acquirer": _("需要联系你的收单机构（给你装POS的银行或支付公司）。"),
    "issuer": _("在发卡行那边，商户和持卡人只能等待或换卡。"),
}


def safe_reverse(name: str, *args, fallback: str = "") -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def outcome_facts(tree: dict, response_codes: dict) -> dict:
    """{outcome id: {"who_acts", "retry"}} from the codes routed straight to each outcome.

    response_codes: {code: (who_acts, retry)}. Outcomes no code leads to are left out (the
    category default applies to them).
    """
    votes: dict[str, list] = {}
    for code, route in (tree.get("code_routes") or {}).items():
        if route.get("outcome") and code in response_codes:
            votes.setdefault(route["outcome"], []).append(response_codes[code])
    facts = {}
    for oid, pairs in votes.items():
        who = Counter(w for w, _r in pairs).most_common()
        retry = Counter(r for _w, r in pairs)
        best = max(retry.values())
        facts[oid] = {
            "who_acts": who[0][0],
            "retry": min(
                (r for r, n in retry.items() if n == best),
                key=lambda r: RETRY_CAUTION.index(r) if r in RETRY_CAUTION else 0,
            ),
        }
    return facts


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


def _articles(slugs: list[str]) -> dict:
    from knowledge.bilingual import lines
    from knowledge.models import Article

    found = {}
    for article in Article.objects.published().filter(slug__in=slugs).only(
        "slug", "title_zh", "title_en", "summary_zh", "summary_en",
        "merchant_steps_zh", "merchant_steps_en",
    ):  # fmt: skip
        found[article.slug] = {
            "slug": article.slug,
            "title": article.title,
            "summary": article.summary,
            "steps": lines(article.tr("merchant_steps")),
            "url": safe_reverse(
                "knowledge:article_detail", article.slug, fallback=f"/articles/{article.slug}/"
            ),
        }
    return found


def _outcome_view(tree: WizardTree, outcome: dict, articles: dict) -> dict:
    return {
        "id": outcome["id"],
        "title": text(outcome.get("title")),
        "summary": text(outcome.get("summary")),
        "category": outcome.get("category"),
        "category_name": tree.category_name(outcome.get("category")),
        "bank_side": bool(outcome.get("bank_side")),
        "causes": [text(c) for c in outcome.get("causes") or []],
        "articles": [articles[s] for s in outcome.get("articles") or [] if s in articles],
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


def who_and_retry(tree: WizardTree, outcome: dict, code_row) -> dict:
    from knowledge.models import ResponseCode

    if code_row is not None:
        who, retry = code_row.who_acts, code_row.retry
        advice = code_row.tr("retry_advice") or RETRY_ADVICE.get(retry, "")
    else:
        facts = (tree.data.get("outcome_facts") or {}).get(outcome["id"])
        if facts:
            who, retry = facts["who_acts"], facts["retry"]
        else:
            who, retry = CATEGORY_DEFAULTS.get(outcome.get("category"), ("merchant", "after_fix"))
        advice = RETRY_ADVICE.get(retry, "")
    return {
        "who_acts": who,
        "who_acts_label": dict(ResponseCode.WhoActs.choices).get(who, who),
        "who_acts_hint": WHO_ACTS_HINT.get(who, ""),
        "retry": retry,
        "retry_label": dict(ResponseCode.Retry.choices).get(retry, retry),
        "retry_advice": advice,
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
    articles = _articles(slugs)  # one query for both outcomes
    code_row = response_code_facts(walk.code)
    return {
        "outcome": _outcome_view(tree, lead, articles),
        "reached": _outcome_view(tree, reached, articles) if reached is not None else None,
        "bank_lead": reached is not None,
        "code": walk.code,
        "code_row": code_row,
        "code_url": safe_reverse("knowledge:code_detail", walk.code) if walk.code else "",
        "facts": who_and_retry(tree, lead, code_row),
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
