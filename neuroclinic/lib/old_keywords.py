"""Old names of the acting-user keyword, accepted only until every caller says `by=`.

Every action names its acting user `by=`. This round, the apps other branches
own (r16-intake: intake and portal; r16-infusions: infusions and treatment;
r16-ledger: ledger) still call a few actions of measures, patients and accounts
with the old names (`entered_by=`, `created_by=`, ...). The functions marked
OLD_ACTOR_KEYWORD accept both spellings so that every branch stays green on
its own. Once those branches call `by=`, delete each `**old` parameter, its
TypedDict and this module (the lead does this at merge).
"""

from collections.abc import Mapping
from typing import Any

# The default of a `by` that must still be given (as `by=` or its old name).
MISSING: Any = object()


def acting_user(
    by: Any, old: Mapping[str, object], *, function: str, optional: bool = False
) -> Any:
    """`by`, or the value of its one old name in `old`; TypeError when both are given.

    When neither is given: None if `optional` (the action may run without a
    member of staff), else TypeError.
    """
    if old:
        if by is not MISSING or len(old) > 1:
            raise TypeError(f"{function}(): give the acting user once, as by=")
        return next(iter(old.values()))
    if by is MISSING:
        if optional:
            return None
        raise TypeError(f"{function}() missing keyword argument 'by'")
    return by
