"""OpenAPI description of the knowledge endpoints (merged by config.api.build_openapi)."""

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
_LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Answer language; without it the Accept-Language header decides "
    "(default Simplified Chinese).",
    "schema": {"type": "string", "enum": ["zh-hans", "en"]},
}

SPEC = {
    "paths": {
        "/api/v1/search": {
            "get": {
                "operationId": "searchKnowledge",
                "summary": "Search articles and response codes",
                "description": "Chinese (segmented, with colloquial synonyms) and English "
                "(stemmed, small typos forgiven) queries, or an exact response code. Best "
                "first, at most 10. URLs are paths in the answer language.",
                "tags": ["knowledge"],
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "What to search for (a code such as 51, or words); "
                        "blank is refused with 400.",
                        "schema": {"type": "string", "maxLength": 200, "pattern": "\\S"},
                        "example": "余额不足",
                    },
                    _LANG,
                ],
                "responses": {
                    "200": {
                        "description": "Results, best first.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/SearchResponse"}
                            }
                        },
                    },
                    "400": {"description": "`q` is missing or empty.", "content": _ERROR},
                    "405": {"description": "Only GET.", "content": _ERROR},
                },
            }
        },
        "/api/v1/codes/{code}": {
            "get": {
                "operationId": "getResponseCode",
                "summary": "One response code",
                "description": "Case-insensitive (`a0` is `A0`).",
                "tags": ["knowledge"],
                "parameters": [
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "example": "51"},
                    },
                    _LANG,
                ],
                "responses": {
                    "200": {
                        "description": "The code.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ResponseCode"}
                            }
                        },
                    },
                    "404": {"description": "Unknown code.", "content": _ERROR},
                    "405": {"description": "Only GET.", "content": _ERROR},
                },
            }
        },
    },
    "components": {
        "schemas": {
            "SearchResult": {
                "type": "object",
                "required": ["title", "url", "category", "response_codes", "summary"],
                "properties": {
                    "title": {"type": "string"},
                    "url": {"type": "string", "example": "/en/codes/51/"},
                    "category": {"type": "string", "enum": _CATEGORIES},
                    "response_codes": {
                        "type": "array",
                        "items": {"type": "string"},
                        "example": ["51"],
                    },
                    "summary": {"type": "string"},
                },
            },
            "SearchResponse": {
                "type": "object",
                "required": ["query", "results"],
                "properties": {
                    "query": {"type": "string"},
                    "results": {
                        "type": "array",
                        "maxItems": 10,
                        "items": {"$ref": "#/components/schemas/SearchResult"},
                    },
                },
            },
            "ArticleLink": {
                "type": "object",
                "required": ["title", "url"],
                "properties": {
                    "title": {"type": "string"},
                    "url": {"type": "string", "example": "/articles/insufficient-balance/"},
                },
            },
            "ResponseCode": {
                "type": "object",
                "required": ["code", "meaning", "category", "who_acts", "retry", "articles"],
                "properties": {
                    "code": {"type": "string", "example": "51"},
                    "meaning": {"type": "string"},
                    "category": {"type": "string", "enum": _CATEGORIES},
                    "who_acts": {
                        "type": "string",
                        "enum": ["cardholder", "merchant", "acquirer", "issuer"],
                    },
                    "retry": {"type": "string", "enum": ["yes", "no", "later", "after_fix"]},
                    "articles": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/ArticleLink"},
                    },
                },
            },
        }
    },
}
