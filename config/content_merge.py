"""The one rule for loading shipped content into rows that editors may change.

`load_knowledge` (knowledge/loading.py) and `load_wizard` (diagnosis/wizard/loader.py) load JSON
files from the repository into rows that knowledge editors then edit in the admin. Each row keeps
`source_hash`: the hash of the content it was last loaded with. On the next load a row is
- created when it is new in the file (never loaded before);
- not brought back when it was loaded before and an editor has since deleted it;
- left as it is when it already holds what the file says (its stored hash is brought up to date);
- updated when the file changed and nobody edited it since it was loaded (it still hashes to
  `source_hash`);
- left alone when an editor changed it since it was loaded: the editor's version wins.
"""

from collections.abc import Callable

CREATED = "created"
DELETED = "deleted"  # deleted by an editor: not brought back
UNCHANGED = "unchanged"
UPDATED = "updated"
KEPT = "kept"  # edited by an editor: left alone


def row_action(
    *,
    exists: bool,
    file_hash: str,
    stored_hash: str = "",
    current_hash: Callable[[], str] | None = None,
    loaded_before: bool = False,
) -> str:
    """What the load does with one row (one of the constants above).

    `current_hash()` hashes the row as it is now, in the same form as the file's content; it is
    called only for an existing row. `loaded_before`: the row's key was in an earlier load (for
    loaders that remember keys, so that a row an editor deleted is not created again).
    """
    if not exists:
        return DELETED if loaded_before else CREATED
    current = current_hash()
    if current == file_hash:
        return UNCHANGED
    if stored_hash and current == stored_hash:
        return UPDATED
    return KEPT
