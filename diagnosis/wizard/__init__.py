"""The troubleshooting wizard: validation, the engine that walks a tree, snapshots and loading.

A tree is plain JSON, in the format of `diagnosis/wizard/content/wizard.json`:

    {"start": "q-code",
     "questions": [{"id", "kind": "code"|"choice", "text": {"zh-hans", "en"}, "help"?: {...},
                    "options": [{"id", "label": {...}, "next": "<question id>"
                                 | "outcome": "<outcome id>"}]}],
     "code_routes": {"51": {"outcome": "o-…"} | {"next": "q-…"}},
     "outcomes": [{"id", "category", "bank_side", "title": {...}, "summary": {...},
                   "causes": [{"zh-hans", "en"}], "articles": ["<article slug>", …]}]}

The draft rows in the database serialise to this format, published versions store it, the
validator checks it and the engine walks it.
"""
