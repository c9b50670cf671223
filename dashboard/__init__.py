"""The recruiters' dashboard: server-rendered pages for plans, invitations, interviews, scores and practice.

```python
from dashboard import install_dashboard
install_dashboard(app, DashboardServices(base_url=..., rate_limiter=...))   # mockline/web.py
```
"""

from ._deps import DashboardServices
from ._errors import AccountError, CsrfRejected, DashboardError, LoginRequired, NotFound
from ._jobs import DashboardJobs
from ._mail import MailSettings, get_mail_settings
from ._passwords import check_password_strength, hash_password, verify_password
from ._router import install_dashboard, recruiter_api_auth, router
from ._settings import DashboardSettings, get_dashboard_settings
from ._users import create_user

__all__ = [
    "AccountError",
    "CsrfRejected",
    "DashboardError",
    "DashboardJobs",
    "DashboardServices",
    "DashboardSettings",
    "LoginRequired",
    "MailSettings",
    "NotFound",
    "check_password_strength",
    "create_user",
    "get_dashboard_settings",
    "get_mail_settings",
    "hash_password",
    "install_dashboard",
    "recruiter_api_auth",
    "router",
    "verify_password",
]
