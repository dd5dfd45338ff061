"""JSON API of the wizard: GET /api/v1/wizard, the published tree in PRODUCT.md's shape."""

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from config.api import ApiError, errors, one_of
from diagnosis.wizard import pages
from diagnosis.wizard.snapshot import live_tree
from knowledge.api import ArticleLink
from knowledge.taxonomy import CATEGORY_KEYS

router = Router(tags=["wizard"])

ID_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"


def node_id(**field):
    return Field(json_schema_extra={"pattern": ID_PATTERN}, **field)


class WizardOption(Schema):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(
        description="The answer's text, or a response code on the code node.",
        examples=["Yes, other cards work; only this one fails"],
    )
    next: str | None = node_id(description="Id of the next node, or null.")
    outcome: str | None = node_id(description="Id of the outcome, or null.")


class WizardNode(Schema):
    model_config = ConfigDict(extra="forbid")

    id: str = node_id(examples=["q-scope"])
    question: str = Field(examples=["Apart from this card, do other cards work on this terminal?"])
    options: list[WizardOption]


class WizardOutcome(Schema):
    model_config = ConfigDict(extra="forbid")

    id: str = node_id(examples=["o-insufficient-balance"])
    title: str = Field(examples=["Not enough money or credit on the card"])
    category: one_of(CATEGORY_KEYS)
    articles: list[ArticleLink]


class WizardTree(Schema):
    model_config = ConfigDict(extra="forbid")

    start: str = node_id(description="Id of the first node.", examples=["q-code"])
    nodes: list[WizardNode]
    outcomes: list[WizardOutcome]


@router.get(
    "/wizard",
    url_name="api_wizard",
    response={200: WizardTree, **errors(404)},
    operation_id="getWizardTree",
    summary="The published troubleshooting tree",
    description=(
        "The whole live (latest published) decision tree in one document. Start at the node "
        "`start`; each option leads either to another node (`next`) or to an outcome "
        "(`outcome`) — exactly one of the two is set. On the node that asks for the response "
        'code, the node\'s own options come first (e.g. "no code"), followed by one option per '
        "response code the merchant can type, whose `label` is the two-character code itself "
        '(e.g. "51"). An outcome\'s `articles` are the published knowledge articles with the '
        "fixes, most relevant first, as title and URL path in the answer language. No path is "
        "longer than 7 nodes and there are no cycles."
    ),
)
def wizard_tree(request):
    tree = live_tree()
    if tree is None:
        raise ApiError("not_found", _("排查向导还没有发布。"), 404)
    return pages.api_tree(tree)
