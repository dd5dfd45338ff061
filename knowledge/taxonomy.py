"""The category taxonomy of PRODUCT.md: stable keys that the API exposes and other tools rely on.

The one list of them: the knowledge content (`content/categories.json`), the wizard's outcomes,
the OpenAPI document and the tests all take the keys from here.
"""

# Why a transaction was declined, in the order the public pages show them.
DECLINE_CATEGORIES = (
    "funds_limits",  # balance, daily/monthly limits
    "card_status",  # expired, lost, stolen, frozen, damaged chip/stripe, restricted
    "data_entry",  # wrong card number, amount, format
    "pin",  # wrong PIN, tries exceeded
    "terminal",  # device fault, not signed in, keys/MAC, reader
    "network",  # communication failure, timeout
    "issuer_system",  # issuer or switch down, maintenance
    "acquirer_config",  # merchant or terminal not registered, transaction type not allowed
    "risk_compliance",  # suspected fraud, self-swiping / cash-out, risk control on the merchant
)
# Codes that are not declines (approval, information): their own category.
NOT_A_DECLINE = "approved_or_info"
CATEGORY_KEYS = (*DECLINE_CATEGORIES, NOT_A_DECLINE)
