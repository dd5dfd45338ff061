"""The troubleshooting wizard: one question per screen, the answers in the URL, no session.

GET /diagnose/?v=<version>&a=<answer>.<answer>… shows the next question or the outcome; with
htmx the step swaps in place (templates/diagnosis/wizard.html#step) and the URL is pushed.
Reaching an outcome records an anonymous run once (the signed run id then rides in `r=`);
POST /diagnose/vote/ answers "did this solve it?".
"""

from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from config.pagecache import public_page
from diagnosis.core import permissions
from diagnosis.insight import alerts
from diagnosis.wizard import engine, pages, runs
from diagnosis.wizard.snapshot import draft_wizard_tree, live_tree
from knowledge.gaps import services as gaps

TEMPLATE = "diagnosis/wizard.html"

CODE_ERRORS = {
    "empty": _("请输入两位应答码，比如 51；没有应答码就选下面的选项。"),
    "format": _("应答码是两位数字或字母，比如 51、05、A0。请再对一下小票。"),
    "unknown": _("没有找到应答码 %(code)s。请再对一下小票上的应答码，或者选下面的选项继续。"),
}
NOTICES = {
    "updated": _("排查问题刚刚更新过，你之前的回答对不上了，请从头开始。"),
    "invalid": _("这个链接里的回答对不上现在的问题，请从头开始。"),
}


def _render_step(request, context, *, push=None):
    template = f"{TEMPLATE}#step" if request.htmx else TEMPLATE
    response = render(request, template, context)
    if request.htmx and push is not None:
        push_url(response, push)
    return response


@require_GET
@public_page
@never_cache
@vary_on_headers("HX-Request")
def wizard(request):
    draft = request.GET.get("draft") == "1" and permissions.can_preview_wizard(request.user)
    tree = draft_wizard_tree() if draft else live_tree()
    announcements = pages.active_announcements(request.user)
    # An open incident of the merchant's acquirer ranks the bank-side outcome first, like an
    # announcement does (diagnosis.insight.alerts).
    lead_incidents = alerts.incidents_leading_wizard(request.user)
    context = {
        "draft": draft,
        "announcements": announcements,
        "lead_incidents": lead_incidents,
        "tree": tree,
    }
    if tree is None:
        context["empty"] = True
        context["can_publish"] = permissions.can_publish_wizard(request.user)
        return _render_step(request, context)

    push = None
    current = engine.walk(tree, engine.split_answers(request.GET.get("a")))
    if current is None:
        requested = request.GET.get("v", "")
        stale = not draft and requested != str(tree.number)
        context["notice"] = NOTICES["updated" if stale else "invalid"]
        current = engine.walk(tree, [])
        push = pages.step_url(tree.number, [], draft=draft)
    elif "code" in request.GET and current.question and current.question.get("kind") == "code":
        typed = request.GET.get("code", "")[:20]
        code, error = engine.route_code(tree, current, typed)
        if error is None and code not in tree.code_routes:
            gaps.unknown_code_record(code=code, source="wizard")  # taken by the fallback option
        if error is None:
            target = pages.step_url(tree.number, [*current.tokens, code], draft=draft)
            if not request.htmx:
                return redirect(target)
            current = engine.walk(tree, [*current.tokens, code])
            push = target
        else:
            if error == "unknown":
                gaps.unknown_code_record(code=code, source="wizard")
            context["code_error"] = CODE_ERRORS[error] % {"code": code}
            context["typed_code"] = typed
            push = False  # keep the address of the question, not of the failed lookup

    context.update(
        {
            "walk": current,
            "answered": pages.answered_steps(current, draft=draft),
            "path": current.path,
            "start_url": pages.step_url(tree.number, [], draft=draft),
            "back_url": (
                pages.step_url(tree.number, current.tokens[:-1], draft=draft)
                if current.answers
                else ""
            ),
        }
    )
    if not current.finished:
        context.update(pages.question_screen(current, draft=draft, announcements=announcements))
        _hide_irrelevant_incidents(context, current)
        return _render_step(request, context, push=push)

    context.update(pages.outcome_screen(current, announcements=announcements or lead_incidents))
    _hide_irrelevant_incidents(context, current)
    context["can_record"] = not request.user.is_authenticated or permissions.can_record_tickets(
        request.user
    )
    if not draft:
        run = runs.run_from_token(request.GET.get("r"))
        if run is None or run.path != current.path or run.version_id != tree.pk:
            run = runs.run_record(
                version_pk=tree.pk,
                path=current.path,
                code=current.code,
                outcome=context["lead_id"],
                bank_lead=context["bank_lead"],
            )
            target = pages.step_url(tree.number, current.tokens, run_token=runs.run_token(run))
            if not request.htmx:
                return redirect(target)  # one run per outcome shown, not per refresh
            push = target
        context["run"] = run
        context["run_token"] = runs.run_token(run)
    response = _render_step(request, context, push=push)
    response.page_cache = False  # an outcome carries this visitor's run
    return response


def _hide_irrelevant_incidents(context, current):
    """Once the answers point at the card, the PIN or the shop's own terminal, an incident
    banner ("probably the bank") would mislead: base.html shows `incident_alerts`, and the
    view's value wins over the context processor's."""
    if not (current.bank_relevant or context.get("bank_lead")):
        context["incident_alerts"] = []


@require_POST
def wizard_vote(request):
    run = runs.run_from_token(request.POST.get("run"))
    solved = request.POST.get("solved")
    if run is None or solved not in ("yes", "no"):
        return render(request, "400.html", status=400)
    runs.run_vote(run=run, solved=solved == "yes")
    if solved == "yes":
        return redirect("diagnosis:wizard_thanks")
    tokens = engine.split_answers(run.path) or []
    return redirect(
        pages.step_url(run.version.number, tokens, run_token=runs.run_token(run))
        + "#wizard-feedback"
    )


@require_GET
def wizard_thanks(request):
    return render(request, "diagnosis/wizard_thanks.html")
