"""Django looks for admin registrations here; each feature registers its own models."""

from diagnosis.accounts import admin as accounts_admin  # noqa: F401
from diagnosis.core import admin as core_admin  # noqa: F401
from diagnosis.desk import admin as desk_admin  # noqa: F401
from diagnosis.tickets import admin as tickets_admin  # noqa: F401
from diagnosis.wizard import admin as wizard_admin  # noqa: F401
