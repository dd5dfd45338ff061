"""Validation of a wizard tree: a list of clear, bilingual problems (empty = publishable).

`validate_tree()` is pure: it takes the tree (see diagnosis.wizard) and, optionally, what it
must agree with in the database (articles, response codes, categories); `validate_against_db()`
fills those in. Publishing, `check_wizard` and the loader all use the same function.

`analyse()` is the graph part (reachability, cycles, longest path), shared with the engine.
"""

import re
from collections import deque
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext_lazy as _

LANGS = ("zh-hans", "en")
LANG_NAMES = {"zh-hans": _("中文"), "en": _("英文")}
MAX_QUESTIONS = 7
WHO_ACTS = ("cardholder", "merchant", "acquirer", "issuer")
RETRY = ("yes", "no", "later", "after_fix", "check_first")
# How cautious a retry value is (higher = more cautious). An outcome a code leads to must be at
# least as cautious as the code: a code that says "no retry" never leads to a page that invites
# one; "check the last transaction first" counts as "no retry" (it never invites one before the
# check); "later" and "after a fix" are both a conditional yes.
RETRY_CAUTION = {"yes": 0, "later": 1, "after_fix": 1, "check_first": 2, "no": 2}
RETRY_NAMES = {
    "yes": _("可以重试"),
    "no": _("不要重试"),
    "later": _("稍后重试"),
    "after_fix": _("解决问题后再试"),
    "check_first": _("先查上一笔，再决定"),
}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[0-9A-Z]{2}$")
KINDS = ("code", "choice")


@dataclass(frozen=True)
class Problem:
    """One thing that stops a tree from being published. `str()` is in the active language."""

    kind: str
    subject: str
    template: object  # a lazy translated string with %(name)s placeholders
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self):
        return str(self.template) % {k: str(v) for k, v in self.params.items()}

    def text(self, lang: str) -> str:
        with translation.override(lang):
            return str(self)


@dataclass
class Analysis:
    """The tree as a graph of questions; outcomes are the leaves."""

    questions: dict  # id -> question dict (first one wins on duplicates)
    outcomes: dict  # id -> outcome dict
    edges: dict  # question id -> [question id] (options' `next`, and code routes)
    outcome_edges: dict  # question id -> [outcome id]
    reachable_questions: set
    reachable_outcomes: set
    cycles: list  # each a list of question ids that loop
    depth: dict  # question id -> most questions still to answer, this one included
    longest_path: list  # question ids of one longest path from the start

    def max_questions(self) -> int:
        return len(self.longest_path)


def _as_list(value):
    return value if isinstance(value, list) else []


def _as_dict(value):
    return value if isinstance(value, dict) else {}


def _target(item):
    """(next, outcome) of an option or code route, as given (None when absent or empty)."""
    item = _as_dict(item)
    return item.get("next") or None, item.get("outcome") or None


def analyse(tree: dict) -> Analysis:
    tree = _as_dict(tree)
    questions, outcomes = {}, {}
    for q in _as_list(tree.get("questions")):
        if isinstance(q, dict) and isinstance(q.get("id"), str):
            questions.setdefault(q["id"], q)
    for o in _as_list(tree.get("outcomes")):
        if isinstance(o, dict) and isinstance(o.get("id"), str):
            outcomes.setdefault(o["id"], o)
    routes = _as_dict(tree.get("code_routes"))

    edges, outcome_edges = {}, {}
    for qid, q in questions.items():
        nexts, outs = [], []
        targets = [_target(o) for o in _as_list(q.get("options"))]
        if q.get("kind") == "code":
            targets += [_target(r) for r in routes.values()]
        for nxt, out in targets:
            if isinstance(nxt, str) and nxt in questions and nxt not in nexts:
                nexts.append(nxt)
            if isinstance(out, str) and out in outcomes and out not in outs:
                outs.append(out)
        edges[qid], outcome_edges[qid] = nexts, outs

    start = tree.get("start")
    reachable_q, reachable_o = set(), set()
    if isinstance(start, str) and start in questions:
        queue = deque([start])
        reachable_q.add(start)
        while queue:
            qid = queue.popleft()
            reachable_o.update(outcome_edges[qid])
            for nxt in edges[qid]:
                if nxt not in reachable_q:
                    reachable_q.add(nxt)
                    queue.append(nxt)

    components = _strongly_connected(questions, edges)
    cycles = [comp for comp in components if len(comp) > 1 or comp[0] in edges.get(comp[0], ())]
    depth, longest = {}, []
    if not cycles:
        # Tarjan emits components successors-first, so each question's successors are done.
        for (qid,) in components:
            depth[qid] = 1 + max((depth[n] for n in edges[qid]), default=0)
        if start in depth:
            node = start
            while node is not None:
                longest.append(node)
                node = max(edges[node], key=lambda n: depth[n], default=None)
    return Analysis(
        questions=questions,
        outcomes=outcomes,
        edges=edges,
        outcome_edges=outcome_edges,
        reachable_questions=reachable_q,
        reachable_outcomes=reachable_o,
        cycles=cycles,
        depth=depth,
        longest_path=longest,
    )


def _strongly_connected(nodes, edges) -> list[list]:
    """Tarjan's algorithm without recursion; components come out in reverse topological order."""
    index, low, on_stack, stack, result = {}, {}, set(), [], []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child_i = work.pop()
            if child_i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = edges.get(node, [])
            recursed = False
            while child_i < len(children):
                child = children[child_i]
                child_i += 1
                if child not in index:
                    work.append((node, child_i))
                    work.append((child, 0))
                    recursed = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if recursed:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(component[::-1])
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _filled(value) -> dict:
    """{lang: True/False} for a bilingual {"zh-hans": …, "en": …} value."""
    value = _as_dict(value)
    return {lang: isinstance(value.get(lang), str) and bool(value[lang].strip()) for lang in LANGS}


def _bilingual(problems, value, kind, subject, template, params, *, optional=False):
    filled = _filled(value)
    if optional and not any(filled.values()):
        return
    for lang, ok in filled.items():
        if not ok:
            problems.append(Problem(kind, subject, template, {**params, "lang": LANG_NAMES[lang]}))


def validate_tree(
    tree,
    *,
    articles: dict | None = None,
    codes: set | None = None,
    categories: dict | None = None,
    max_questions: int = MAX_QUESTIONS,
) -> list[Problem]:
    """Every problem of `tree`; [] means it can be published.

    articles: {slug: is_published} of the knowledge base (None: don't check articles);
    codes: the known response codes (None: don't check codes); a dict
        {code: {"category", "retry"}} also checks that every outcome a code can reach is in
        that code's category (or lists the code among its exceptions) and is at least as
        cautious about retrying as the code;
    categories: {key: is_decline} (None: don't check categories).
    """
    problems: list[Problem] = []
    if not isinstance(tree, dict) or not isinstance(tree.get("questions"), list):
        return [
            Problem(
                "malformed",
                "",
                _("向导数据格式不对：%(detail)s"),
                {"detail": _("缺少问题列表")},
            )
        ]
    add = problems.append

    seen_q, seen_o = set(), set()
    for q in tree["questions"]:
        qid = _as_dict(q).get("id")
        if not isinstance(qid, str) or not ID_RE.match(qid):
            add(
                Problem(
                    "bad_id",
                    str(qid),
                    _("问题编号“%(id)s”不能用：只能用小写字母、数字和连字符。"),
                    {"id": qid},
                )
            )
            continue
        if qid in seen_q:
            add(Problem("duplicate_question", qid, _("问题编号 %(id)s 重复了。"), {"id": qid}))
        seen_q.add(qid)
    for o in _as_list(tree.get("outcomes")):
        oid = _as_dict(o).get("id")
        if not isinstance(oid, str) or not ID_RE.match(oid):
            add(
                Problem(
                    "bad_id",
                    str(oid),
                    _("结论编号“%(id)s”不能用：只能用小写字母、数字和连字符。"),
                    {"id": oid},
                )
            )
            continue
        if oid in seen_o:
            add(Problem("duplicate_outcome", oid, _("结论编号 %(id)s 重复了。"), {"id": oid}))
        seen_o.add(oid)

    graph = analyse(tree)
    start = tree.get("start")
    if not start:
        add(Problem("no_start", "", _("没有设置第一个问题。")))
    elif start not in graph.questions:
        add(Problem("start_missing", str(start), _("第一个问题 %(id)s 不存在。"), {"id": start}))

    _check_questions(problems, graph)
    _check_code_routes(problems, tree, graph, codes)
    _check_outcomes(problems, graph, articles, categories)
    if isinstance(codes, dict):
        _check_code_facts(problems, tree, graph, codes, categories)

    if start in graph.questions:
        for qid in graph.questions:
            if qid not in graph.reachable_questions:
                add(
                    Problem(
                        "unreachable_question",
                        qid,
                        _("问题 %(id)s 从第一个问题出发走不到。"),
                        {"id": qid},
                    )
                )
        for oid in graph.outcomes:
            if oid not in graph.reachable_outcomes:
                add(
                    Problem(
                        "unreachable_outcome",
                        oid,
                        _("结论 %(id)s 从第一个问题出发走不到。"),
                        {"id": oid},
                    )
                )

    for cycle in graph.cycles:
        path = " → ".join([*cycle, cycle[0]])
        add(
            Problem(
                "cycle",
                cycle[0],
                _("这些问题绕成了一个圈，商户会一直答不完：%(path)s。"),
                {"path": path},
            )
        )
    if not graph.cycles and graph.max_questions() > max_questions:
        add(
            Problem(
                "too_long",
                graph.longest_path[0],
                _("最长的一条路要回答 %(count)s 个问题，超过了 %(limit)s 个：%(path)s。"),
                {
                    "count": graph.max_questions(),
                    "limit": max_questions,
                    "path": " → ".join(graph.longest_path),
                },
            )
        )

    if categories is not None and start in graph.questions:
        reached = {
            _as_dict(graph.outcomes[oid]).get("category") for oid in graph.reachable_outcomes
        }
        for key, is_decline in categories.items():
            if is_decline and key not in reached:
                add(
                    Problem(
                        "category_unreachable",
                        key,
                        _("没有任何能走到的结论属于分类 %(category)s。"),
                        {"category": key},
                    )
                )
    return problems


def _check_questions(problems, graph: Analysis):
    add = problems.append
    for qid, q in graph.questions.items():
        kind = q.get("kind")
        if kind not in KINDS:
            add(
                Problem(
                    "bad_kind",
                    qid,
                    _("问题 %(id)s 的类型“%(kind)s”不对，只能是 code 或 choice。"),
                    {"id": qid, "kind": kind},
                )
            )
        _bilingual(
            problems,
            q.get("text"),
            "missing_translation",
            qid,
            _("问题 %(id)s 的题目缺少%(lang)s。"),
            {"id": qid},
        )
        _bilingual(
            problems,
            q.get("help"),
            "missing_translation",
            qid,
            _("问题 %(id)s 的提示缺少%(lang)s。"),
            {"id": qid},
            optional=True,
        )
        options = _as_list(q.get("options"))
        if kind == "choice" and len(options) < 2:
            add(Problem("too_few_options", qid, _("选择题 %(id)s 至少要有两个选项。"), {"id": qid}))
        if kind == "code" and not options:
            add(
                Problem(
                    "too_few_options",
                    qid,
                    _("问应答码的问题 %(id)s 至少要有一个选项，比如“没有应答码”。"),
                    {"id": qid},
                )
            )
        seen = set()
        for option in options:
            option = _as_dict(option)
            oid = option.get("id")
            params = {"question": qid, "option": oid}
            subject = f"{qid}.{oid}"
            if not isinstance(oid, str) or not ID_RE.match(oid):
                add(
                    Problem(
                        "bad_id",
                        subject,
                        _(
                            "问题 %(question)s 里的选项编号“%(option)s”不能用："
                            "只能用小写字母、数字和连字符。"
                        ),
                        params,
                    )
                )
            elif oid in seen:
                add(
                    Problem(
                        "duplicate_option",
                        subject,
                        _("问题 %(question)s 里的选项编号 %(option)s 重复了。"),
                        params,
                    )
                )
            seen.add(oid)
            _bilingual(
                problems,
                option.get("label"),
                "missing_translation",
                subject,
                _("问题 %(question)s 的选项 %(option)s 缺少%(lang)s。"),
                params,
            )
            _check_target(
                problems,
                graph,
                option,
                subject,
                params,
                none=_("问题 %(question)s 的选项 %(option)s 没有指向任何问题或结论。"),
                both=_("问题 %(question)s 的选项 %(option)s 同时指向了问题和结论，只能选一个。"),
                no_question=_("问题 %(question)s 的选项 %(option)s 指向的问题 %(target)s 不存在。"),
                no_outcome=_("问题 %(question)s 的选项 %(option)s 指向的结论 %(target)s 不存在。"),
                prefix="option",
            )


def _check_target(
    problems, graph, item, subject, params, *, none, both, no_question, no_outcome, prefix
):
    nxt, out = _target(item)
    if nxt is None and out is None:
        problems.append(Problem(f"{prefix}_no_target", subject, none, params))
    elif nxt is not None and out is not None:
        problems.append(Problem(f"{prefix}_two_targets", subject, both, params))
    elif nxt is not None and nxt not in graph.questions:
        problems.append(
            Problem(f"{prefix}_missing_question", subject, no_question, {**params, "target": nxt})
        )
    elif out is not None and out not in graph.outcomes:
        problems.append(
            Problem(f"{prefix}_missing_outcome", subject, no_outcome, {**params, "target": out})
        )


def _check_code_routes(problems, tree, graph: Analysis, codes):
    add = problems.append
    routes = tree.get("code_routes")
    if routes is None:
        routes = {}
    if not isinstance(routes, dict):
        add(
            Problem(
                "malformed",
                "code_routes",
                _("向导数据格式不对：%(detail)s"),
                {"detail": "code_routes"},
            )
        )
        return
    has_code_question = any(q.get("kind") == "code" for q in graph.questions.values())
    if routes and not has_code_question:
        add(
            Problem(
                "code_routes_unused",
                "",
                _("设置了应答码去向，但是没有“问应答码”类型的问题，这些去向用不上。"),
            )
        )
    for code, route in routes.items():
        params = {"code": code}
        if not isinstance(code, str) or not CODE_RE.match(code):
            add(
                Problem(
                    "code_bad",
                    str(code),
                    _("应答码去向里的“%(code)s”不是两位数字或大写字母。"),
                    params,
                )
            )
            continue
        if codes is not None and code not in codes:
            add(Problem("code_unknown", code, _("应答码 %(code)s 不在应答码表里。"), params))
        _check_target(
            problems,
            graph,
            route,
            code,
            params,
            none=_("应答码 %(code)s 没有指向任何问题或结论。"),
            both=_("应答码 %(code)s 同时指向了问题和结论，只能选一个。"),
            no_question=_("应答码 %(code)s 指向的问题 %(target)s 不存在。"),
            no_outcome=_("应答码 %(code)s 指向的结论 %(target)s 不存在。"),
            prefix="code",
        )
    if codes is not None and has_code_question:
        for code in sorted(set(codes) - set(routes)):
            add(
                Problem(
                    "code_without_route",
                    code,
                    _("应答码 %(code)s 还没有设置去向。"),
                    {"code": code},
                )
            )


def _check_outcomes(problems, graph: Analysis, articles, categories):
    add = problems.append
    for oid, o in graph.outcomes.items():
        params = {"id": oid}
        category = o.get("category")
        if categories is not None and category not in categories:
            add(
                Problem(
                    "category_unknown",
                    oid,
                    _("结论 %(id)s 的分类 %(category)s 不存在。"),
                    {**params, "category": category},
                )
            )
        if not isinstance(o.get("bank_side", False), bool):
            add(
                Problem(
                    "malformed",
                    oid,
                    _("向导数据格式不对：%(detail)s"),
                    {"detail": f"{oid}.bank_side"},
                )
            )
        _bilingual(
            problems,
            o.get("title"),
            "missing_translation",
            oid,
            _("结论 %(id)s 的标题缺少%(lang)s。"),
            params,
        )
        _bilingual(
            problems,
            o.get("summary"),
            "missing_translation",
            oid,
            _("结论 %(id)s 的摘要缺少%(lang)s。"),
            params,
        )
        _check_outcome_facts(problems, oid, o)
        causes = _as_list(o.get("causes"))
        if not causes:
            add(Problem("no_causes", oid, _("结论 %(id)s 没有写可能原因。"), params))
        for n, cause in enumerate(causes, 1):
            _bilingual(
                problems,
                cause,
                "missing_translation",
                oid,
                _("结论 %(id)s 的第 %(n)s 条原因缺少%(lang)s。"),
                {**params, "n": n},
            )
        slugs = [s for s in _as_list(o.get("articles")) if isinstance(s, str) and s]
        if not slugs:
            add(Problem("no_articles", oid, _("结论 %(id)s 没有关联任何文章。"), params))
        if articles is not None:
            for slug in slugs:
                if slug not in articles:
                    add(
                        Problem(
                            "article_missing",
                            oid,
                            _("结论 %(id)s 关联的文章 %(slug)s 不存在。"),
                            {**params, "slug": slug},
                        )
                    )
                elif not articles[slug]:
                    add(
                        Problem(
                            "article_unpublished",
                            oid,
                            _("结论 %(id)s 关联的文章 %(slug)s 还没有发布。"),
                            {**params, "slug": slug},
                        )
                    )


def _check_outcome_facts(problems, oid, o):
    """Who acts and whether to retry: stated on every outcome, in both languages."""
    add = problems.append
    params = {"id": oid}
    if o.get("who_acts") not in WHO_ACTS:
        add(Problem("no_who_acts", oid, _("结论 %(id)s 没有写明由谁处理。"), params))
    if o.get("retry") not in RETRY:
        add(Problem("no_retry", oid, _("结论 %(id)s 没有写明能否重试。"), params))
    _bilingual(
        problems,
        o.get("who_acts_note"),
        "missing_translation",
        oid,
        _("结论 %(id)s 的“由谁处理”说明缺少%(lang)s。"),
        params,
    )
    _bilingual(
        problems,
        o.get("retry_advice"),
        "missing_translation",
        oid,
        _("结论 %(id)s 的重试建议缺少%(lang)s。"),
        params,
    )
    for exception in _as_list(o.get("exceptions")):
        exception = _as_dict(exception)
        code = exception.get("code")
        if not isinstance(code, str) or not CODE_RE.match(code):
            add(
                Problem(
                    "malformed",
                    oid,
                    _("向导数据格式不对：%(detail)s"),
                    {"detail": f"{oid}.exceptions"},
                )
            )
            continue
        _bilingual(
            problems,
            exception.get("reason"),
            "exception_without_reason",
            oid,
            _("结论 %(id)s 把应答码 %(code)s 列为分类例外，但理由缺少%(lang)s。"),
            {**params, "code": code},
        )


def reachable_outcomes(tree: dict, graph: Analysis, target: dict) -> set:
    """Outcome ids reachable from an option or code route (its outcome, or every outcome
    below its next question)."""
    nxt, out = _target(target)
    found = set()
    if out in graph.outcomes:
        found.add(out)
    if nxt not in graph.questions:
        return found
    seen, queue = {nxt}, deque([nxt])
    while queue:
        qid = queue.popleft()
        for option in _as_list(graph.questions[qid].get("options")):
            o_next, o_out = _target(option)
            if o_out in graph.outcomes:
                found.add(o_out)
            if o_next in graph.questions and o_next not in seen:
                seen.add(o_next)
                queue.append(o_next)
    return found


def _check_code_facts(problems, tree, graph: Analysis, codes: dict, categories):
    """A known code is a fact: it never leads to another category (unless the outcome lists it
    as an exception with a reason), a decline never leads to "not a decline", and an outcome
    is never less cautious about retrying than a code that leads to it."""
    add = problems.append
    routes = _as_dict(tree.get("code_routes"))
    excepted = {}
    for oid, o in graph.outcomes.items():
        excepted[oid] = {
            _as_dict(e).get("code") for e in _as_list(o.get("exceptions")) if isinstance(e, dict)
        }
    used_exceptions = set()
    for code, route in sorted(routes.items()):
        facts = codes.get(code)
        if not isinstance(facts, dict):
            continue
        code_category, code_retry = facts.get("category"), facts.get("retry")
        code_declines = categories.get(code_category, True) if categories is not None else True
        for oid in sorted(reachable_outcomes(tree, graph, route)):
            o = graph.outcomes[oid]
            category = o.get("category")
            params = {"code": code, "id": oid, "category": category, "expected": code_category}
            if code_declines and categories is not None and categories.get(category) is False:
                add(
                    Problem(
                        "decline_reaches_approval",
                        code,
                        _(
                            "应答码 %(code)s 是拒绝，却能走到“不是拒绝”的结论 %(id)s："
                            "商户可能会把没收到钱的货交出去。"
                        ),
                        params,
                    )
                )
            elif category != code_category:
                if code in excepted[oid]:
                    used_exceptions.add((oid, code))
                else:
                    add(
                        Problem(
                            "code_category",
                            code,
                            _(
                                "应答码 %(code)s 属于分类 %(expected)s，却能走到分类 "
                                "%(category)s 的结论 %(id)s。请改路线，或在结论里把它列为例外"
                                "并写明理由。"
                            ),
                            params,
                        )
                    )
            retry = o.get("retry")
            if (
                code_retry in RETRY_CAUTION
                and retry in RETRY_CAUTION
                and RETRY_CAUTION[retry] < RETRY_CAUTION[code_retry]
            ):
                add(
                    Problem(
                        "retry_unsafe",
                        code,
                        _(
                            "应答码 %(code)s 的重试建议是“%(code_retry)s”，它能走到的结论 %(id)s "
                            "却写着“%(retry)s”，比它更鼓励重试。"
                        ),
                        {
                            **params,
                            "code_retry": RETRY_NAMES.get(code_retry, code_retry),
                            "retry": RETRY_NAMES.get(retry, retry),
                        },
                    )
                )
    for oid, listed in sorted(excepted.items()):
        for code in sorted(c for c in listed if isinstance(c, str)):
            if code in codes and (oid, code) not in used_exceptions:
                add(
                    Problem(
                        "exception_unused",
                        oid,
                        _("结论 %(id)s 把应答码 %(code)s 列为分类例外，但这个应答码走不到它。"),
                        {"id": oid, "code": code},
                    )
                )


def database_context() -> dict:
    """What a tree must agree with: articles, response codes and categories (3 queries)."""
    from knowledge.models import Article, Category, ResponseCode

    return {
        "articles": {
            slug: status == Article.Status.PUBLISHED
            for slug, status in Article.objects.values_list("slug", "status")
        },
        "codes": {
            code: {"category": category, "retry": retry}
            for code, category, retry in ResponseCode.objects.values_list(
                "code", "category__key", "retry"
            )
        },
        "categories": dict(Category.objects.values_list("key", "is_decline")),
    }


def validate_against_db(tree) -> list[Problem]:
    return validate_tree(tree, **database_context())
