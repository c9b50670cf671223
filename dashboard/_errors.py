"""Errors the dashboard turns into pages (or JSON under ``/api/``).

```
DashboardError            base class; ``status`` is the HTTP status, ``message`` is safe to show
├── LoginRequired         no valid session (pages redirect to /login, the API answers 401)
├── CsrfRejected          a form came without this session's CSRF token (403)
├── Forbidden             the viewer's role does not allow this (403)
├── NotFound              missing, or belongs to another organisation (404; never says which)
├── Unavailable           a backing service (the recordings store) failed; try again later (503)
└── AccountError          ``mockline admin``: bad or duplicate account details (ValueError)
```
"""

from __future__ import annotations

__all__ = [
    "AccountError",
    "CsrfRejected",
    "DashboardError",
    "Forbidden",
    "LoginRequired",
    "NotFound",
    "Unavailable",
]


class DashboardError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginRequired(DashboardError):
    status = 401

    def __init__(self, message: str = "Please log in.", *, next_path: str = "/dashboard") -> None:
        super().__init__(message)
        self.next_path = next_path


class CsrfRejected(DashboardError):
    status = 403

    def __init__(
        self,
        message: str = "This form has expired or did not come from this site. Reload the page and try again.",
    ) -> None:
        super().__init__(message)


class Forbidden(DashboardError):
    status = 403

    def __init__(self, message: str = "Your role does not allow this. Ask an admin of your team.") -> None:
        super().__init__(message)


class NotFound(DashboardError):
    status = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class Unavailable(DashboardError):
    status = 503


class AccountError(DashboardError, ValueError):
    status = 422
