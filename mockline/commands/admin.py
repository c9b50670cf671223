"""``mockline admin``: recruiter accounts for the dashboard."""

from __future__ import annotations

import typer


def _password(given: str | None) -> str:
    if given:
        return given
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _create(email: str, org: str, password: str | None, name: str, role: str, *, new_org_ok: bool) -> None:
    from sqlalchemy import select

    from dashboard import AccountError, check_password_strength, create_user
    from storage import Organization, get_database, upgrade_to_head

    db = get_database()
    upgrade_to_head(db)
    secret = _password(password)
    problem = check_password_strength(secret)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    try:
        with db.session() as s:
            if (
                not new_org_ok
                and s.scalar(select(Organization.id).where(Organization.name == org.strip())) is None
            ):
                raise AccountError(f"no organisation named {org!r} (create it with `mockline admin create`)")
            user = create_user(s, email=email, password=secret, org_name=org, name=name, role=role)
            org_name = org.strip()
            user_email = user.email
    except AccountError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(2) from e
    typer.echo(f"created {role} {user_email} in organisation {org_name!r}; log in at /login")


def register(app: typer.Typer) -> None:
    admin_app = typer.Typer(help="Recruiter accounts for the dashboard.", no_args_is_help=True)

    @admin_app.command("create")
    def create(
        email: str = typer.Option(..., help="The administrator's e-mail address (the login)."),
        org: str = typer.Option(..., help="Organisation name; created when it does not exist yet."),
        password: str = typer.Option(
            None, envvar="MOCKLINE_ADMIN_PASSWORD", help="Password (asked for when not given)."
        ),
        name: str = typer.Option("", help="Display name."),
    ) -> None:
        """Create an organisation's administrator (the first account; creates the organisation if needed)."""
        _create(email, org, password, name, "admin", new_org_ok=True)

    @admin_app.command("add-user")
    def add_user(
        email: str = typer.Option(..., help="The recruiter's e-mail address (the login)."),
        org: str = typer.Option(..., help="Name of an existing organisation."),
        password: str = typer.Option(
            None, envvar="MOCKLINE_ADMIN_PASSWORD", help="Password (asked for when not given)."
        ),
        name: str = typer.Option("", help="Display name."),
        admin: bool = typer.Option(False, "--admin", help="Make this recruiter an administrator too."),
        role: str = typer.Option(
            "recruiter", help="admin (team and webhooks too), recruiter, or viewer (read-only)."
        ),
    ) -> None:
        """Add a member to an existing organisation (admins can also do this on the dashboard's Team page)."""
        _create(email, org, password, name, "admin" if admin else role, new_org_ok=False)

    app.add_typer(admin_app, name="admin")
