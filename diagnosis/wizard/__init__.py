"""The troubleshooting wizard: validation, the engine that walks a tree, snapshots and loading.

A tree is plain JSON, in the format of `diagnosis/wizard/content/wizard.json`:

    {"start": "q-code",
     "questions": [{"id", "kind": "code"|"choice", "text": {"zh-hans", "en"}, "help"?: {...},
                    "options": [{"id", "label": {...}, "next": "<question id>"
                                 | "outcome": "<outcome id>"}]}],
     "code_routes": {"51": {"outcome": "o-…"} | {"next": "q-…"}},
     "outcomes": [{"id", "category", "bank_side", "title": {...}, "summary": {...},
                   "causes": [{"zh-hans", "en"}], "articles": ["<article slug>", …],
                   "who_acts": "cardholder"|"merchant"|"acquirer"|"issuer",
                   "who_acts_note": {...},
                   "retry": "yes"|"no"|"later"|"after_fix"|"check_first",
                   "retry_advice": {...},
                   "exceptions"?: [{"code": "19", "reason": {...}}]}]}

The code question's option `unknown-code` also takes codes that are not in the table.

The draft rows in the database serialise to this format, published versions store it, the
validator checks it and the engine walks it.
"""
