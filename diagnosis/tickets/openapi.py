"""OpenAPI description of /api/v1/tickets (merged into /api/v1/openapi.json by config.api)."""

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _error(description):
    return {"description": description, "content": _ERROR}


_STATUS_ENUM = ["new", "in_progress", "waiting_merchant", "escalated", "resolved", "closed"]

TICKET_SCHEMA = {
    "type": "object",
    "required": [
        "number",
        "url",
        "status",
        "terminal_id",
        "transaction_time",
        "amount",
        "currency",
        "card_masked",
    ],
    "properties": {
        "number": {"type": "string", "example": "DD-2026-000123"},
        "url": {"type": "string", "format": "uri"},
        "status": {"type": "string", "enum": _STATUS_ENUM},
        "status_label": {"type": "string"},
        "terminal_id": {"type": "string", "example": "12345678"},
        "transaction_time": {"type": "string", "format": "date-time"},
        "amount": {"type": "string", "example": "128.50"},
        "currency": {"type": "string", "example": "CNY"},
        "card_masked": {
            "type": "string",
            "description": "Last 4 digits, or first 6 + last 4 with * between; never more.",
            "example": "622848******1234",
        },
        "card_type": {"type": "string", "enum": ["debit", "credit", "unknown"]},
        "response_code": {"type": "string", "example": "51"},
        "rrn": {"type": "string", "example": "123456789012"},
        "trace_number": {"type": "string", "example": "000123"},
        "batch_number": {"type": "string", "example": "000045"},
        "description": {"type": "string", "description": "Card numbers in it are masked."},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

TICKET_INPUT_SCHEMA = {
    "type": "object",
    "required": ["terminal_id", "transaction_time", "amount"],
    "properties": {
        "terminal_id": {"type": "string", "description": "TID, 8 letters or digits."},
        "transaction_time": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601; without an offset it is Beijing time. Not in the future.",
            "example": "2026-03-01T14:30:00+08:00",
        },
        "amount": {
            "type": "string",
            "description": "Decimal string > 0 with at most two decimals.",
            "example": "128.50",
        },
        "currency": {"type": "string", "default": "CNY", "example": "CNY"},
        "card_number": {
            "type": "string",
            "description": "Last 4, first 6 + last 4, or a full number — a full number is "
            "masked on arrival and never stored or echoed.",
        },
        "card_type": {"type": "string", "enum": ["debit", "credit", "unknown"]},
        "response_code": {"type": "string", "description": "2 letters or digits, e.g. 51."},
        "rrn": {"type": "string", "description": "12 letters or digits."},
        "trace_number": {"type": "string", "description": "6 digits."},
        "batch_number": {"type": "string", "description": "6 digits."},
        "description": {"type": "string", "maxLength": 4000},
    },
}

_AUTH_HEADER_NOTE = (
    "Authenticate with a merchant user's API token: `Authorization: Bearer <token>` "
    "(created on /tickets/api-tokens/ or with `python manage.py create_api_token USERNAME`)."
)

SPEC = {
    "paths": {
        "/api/v1/tickets": {
            "get": {
                "summary": "List the token's merchant's tickets, newest first",
                "description": _AUTH_HEADER_NOTE
                + " Keyset pagination: follow `next` / `previous` (no total count).",
                "operationId": "listTickets",
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["open", *_STATUS_ENUM]},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    },
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {"name": "before", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "One page of tickets",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["results", "next", "previous"],
                                    "properties": {
                                        "results": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Ticket"},
                                        },
                                        "next": {"type": "string", "nullable": True},
                                        "previous": {"type": "string", "nullable": True},
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("Invalid filter"),
                    "401": _error("Missing, unknown or revoked token"),
                },
            },
            "post": {
                "summary": "Record a declined transaction",
                "description": _AUTH_HEADER_NOTE,
                "operationId": "createTicket",
                "security": [{"bearerAuth": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/TicketInput"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "The stored ticket (card masked)",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "allOf": [
                                        {"$ref": "#/components/schemas/Ticket"},
                                        {
                                            "type": "object",
                                            "properties": {
                                                "possible_duplicates": {
                                                    "type": "array",
                                                    "items": {"type": "string"},
                                                    "description": "Numbers of earlier tickets "
                                                    "that look like the same transaction.",
                                                }
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    "400": _error("Invalid JSON or invalid fields (error.fields names them)"),
                    "401": _error("Missing, unknown or revoked token"),
                    "413": _error("Request body too large"),
                },
            },
        }
    },
    "components": {"schemas": {"Ticket": TICKET_SCHEMA, "TicketInput": TICKET_INPUT_SCHEMA}},
}
