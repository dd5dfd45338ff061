"""OpenAPI description of GET /api/v1/wizard (merged into /api/v1/openapi.json by config.api)."""

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_CATEGORIES = [
    "funds_limits",
    "card_status",
    "data_entry",
    "pin",
    "terminal",
    "network",
    "issuer_system",
    "acquirer_config",
    "risk_compliance",
    "approved_or_info",
]

_ID = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
_NULLABLE_ID = {**_ID, "nullable": True}

SPEC = {
    "paths": {
        "/api/v1/wizard": {
            "get": {
                "operationId": "getWizardTree",
                "summary": "The published troubleshooting tree",
                "description": (
                    "The whole live (latest published) decision tree in one document. Start at "
                    "the node `start`; each option leads either to another node (`next`) or to "
                    "an outcome (`outcome`) — exactly one of the two is set. On the node that "
                    "asks for the response code, the node's own options come first (e.g. "
                    '"no code"), followed by one option per response code the merchant can '
                    'type, whose `label` is the two-character code itself (e.g. "51"). An '
                    "outcome's `articles` are the published knowledge articles with the fixes, "
                    "most relevant first, as title and URL path in the answer language. No path "
                    "is longer than 7 nodes and there are no cycles."
                ),
                "tags": ["wizard"],
                "parameters": [
                    {
                        "name": "lang",
                        "in": "query",
                        "required": False,
                        "description": "Answer language; without it the Accept-Language header "
                        "decides (default Simplified Chinese).",
                        "schema": {"type": "string", "enum": ["zh-hans", "en"]},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The tree.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/WizardTree"}
                            }
                        },
                    },
                    "404": {
                        "description": "No version of the wizard has been published yet.",
                        "content": _ERROR,
                    },
                },
            }
        }
    },
    "components": {
        "schemas": {
            "WizardTree": {
                "type": "object",
                "required": ["start", "nodes", "outcomes"],
                "additionalProperties": False,
                "properties": {
                    "start": {**_ID, "description": "Id of the first node.", "example": "q-code"},
                    "nodes": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/WizardNode"},
                    },
                    "outcomes": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/WizardOutcome"},
                    },
                },
            },
            "WizardNode": {
                "type": "object",
                "required": ["id", "question", "options"],
                "additionalProperties": False,
                "properties": {
                    "id": {**_ID, "example": "q-scope"},
                    "question": {
                        "type": "string",
                        "example": "Apart from this card, do other cards work on this terminal?",
                    },
                    "options": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/WizardOption"},
                    },
                },
            },
            "WizardOption": {
                "type": "object",
                "required": ["label", "next", "outcome"],
                "additionalProperties": False,
                "properties": {
                    "label": {
                        "type": "string",
                        "description": "The answer's text, or a response code on the code node.",
                        "example": "Yes, other cards work; only this one fails",
                    },
                    "next": {**_NULLABLE_ID, "description": "Id of the next node, or null."},
                    "outcome": {**_NULLABLE_ID, "description": "Id of the outcome, or null."},
                },
            },
            "WizardOutcome": {
                "type": "object",
                "required": ["id", "title", "category", "articles"],
                "additionalProperties": False,
                "properties": {
                    "id": {**_ID, "example": "o-insufficient-balance"},
                    "title": {
                        "type": "string",
                        "example": "Not enough money or credit on the card",
                    },
                    "category": {"type": "string", "enum": _CATEGORIES},
                    "articles": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["title", "url"],
                            "additionalProperties": False,
                            "properties": {
                                "title": {"type": "string"},
                                "url": {
                                    "type": "string",
                                    "description": "Path of the article page, e.g. "
                                    "/en/articles/insufficient-balance/",
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}
