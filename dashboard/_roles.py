"""Who may do what in the dashboard. Pure: a role and an action in, allowed or not out.

```
viewer     reads everything of the organisation: interviews, reports, plans, CSV
recruiter  + plans, invitations, score overrides, candidate stages
admin      + team (users and their roles) and webhooks
```
Every route states the action it needs (``Depends(need(EDIT))``); a role without it gets 403.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ADMIN", "EDIT", "READ", "ROLES", "allows", "role_label"]

READ: Final = "read"
EDIT: Final = "edit"  # plans, invitations, overrides, stages
ADMIN: Final = "admin"  # users, webhooks

ROLES: Final = ("admin", "recruiter", "viewer")
_GRANTS: Final = {
    "viewer": frozenset({READ}),
    "recruiter": frozenset({READ, EDIT}),
    "admin": frozenset({READ, EDIT, ADMIN}),
}
_LABELS: Final = {
    "admin": "Admin: everything, including the team and webhooks",
    "recruiter": "Recruiter: plans, invitations, overrides and stages",
    "viewer": "Viewer: read-only",
}


def allows(role: str, action: str) -> bool:
    return action in _GRANTS.get(role, frozenset())


def role_label(role: str) -> str:
    return _LABELS.get(role, role)
