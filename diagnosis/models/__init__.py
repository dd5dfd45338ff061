from diagnosis.models.accounts import Bank, Merchant, Terminal, User
from diagnosis.models.audit import *  # noqa: F403
from diagnosis.models.demo import *  # noqa: F403
from diagnosis.models.desk_tools import *  # noqa: F403
from diagnosis.models.desk_views import *  # noqa: F403
from diagnosis.models.escalations import *  # noqa: F403
from diagnosis.models.insight import *  # noqa: F403
from diagnosis.models.notifications import *  # noqa: F403
from diagnosis.models.ratelimits import *  # noqa: F403
from diagnosis.models.tickets import *  # noqa: F403
from diagnosis.models.wizard import *  # noqa: F403

__all__ = ["Bank", "Merchant", "Terminal", "User"]
