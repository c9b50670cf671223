"""``mockline admin``: bootstrapping the first administrator and adding recruiters."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from dashboard import verify_password
from mockline.commands import admin
from storage import Organization, User

pytestmark = pytest.mark.integration


@pytest.fixture
def cli():
    app = typer.Typer()
    admin.register(app)
    runner = CliRunner()
    return lambda *args, **kw: runner.invoke(app, list(args), **kw)


def test_create_admin_then_add_a_recruiter(cli, sqlite_db):
    r = cli("admin", "create", "--email", "Boss@Acme.test", "--org", "Acme", "--password", "first-admin-pw")
    assert r.exit_code == 0, r.output
    assert "created admin boss@acme.test" in r.output
    # the password is prompted for (twice) when not given on the command line
    r = cli(
        "admin",
        "add-user",
        "--email",
        "rec@acme.test",
        "--org",
        "Acme",
        input="second-user-pw\nsecond-user-pw\n",
    )
    assert r.exit_code == 0, r.output
    with sqlite_db.session() as s:
        orgs = s.scalars(select(Organization)).all()
        users = {u.email: u for u in s.scalars(select(User))}
    assert [o.name for o in orgs] == ["Acme"]
    assert users["boss@acme.test"].is_admin and not users["rec@acme.test"].is_admin
    assert users["rec@acme.test"].org_id == orgs[0].id
    stored = users["boss@acme.test"].password_hash
    assert stored.startswith("$argon2id$") and "first-admin-pw" not in stored
    assert verify_password(stored, "first-admin-pw") and not verify_password(stored, "first-admin-px")
    r = cli(
        "admin",
        "add-user",
        "--email",
        "v@acme.test",
        "--org",
        "Acme",
        "--role",
        "viewer",
        "--password",
        "viewer-pw-12",
    )
    assert r.exit_code == 0 and "created viewer v@acme.test" in r.output, r.output
    r = cli(
        "admin",
        "add-user",
        "--email",
        "x@acme.test",
        "--org",
        "Acme",
        "--role",
        "owner",
        "--password",
        "x-pw-123456",
    )
    assert r.exit_code == 2 and "the role must be one of admin, recruiter, viewer" in r.output


def test_bad_account_details_are_refused_clearly(cli, sqlite_db):
    assert (
        cli(
            "admin", "create", "--email", "a@acme.test", "--org", "Acme", "--password", "long-enough-pw"
        ).exit_code
        == 0
    )
    cases = [
        (
            ("admin", "create", "--email", "a@acme.test", "--org", "Acme", "--password", "long-enough-pw"),
            "already exists",
        ),
        (
            ("admin", "create", "--email", "b@acme.test", "--org", "Acme", "--password", "short"),
            "at least 10",
        ),
        (
            ("admin", "create", "--email", "not-an-email", "--org", "Acme", "--password", "long-enough-pw"),
            "not an e-mail",
        ),
        (
            ("admin", "add-user", "--email", "c@x.test", "--org", "Nope", "--password", "long-enough-pw"),
            "no organisation",
        ),
    ]
    for args, message in cases:
        r = cli(*args)
        assert r.exit_code == 2 and message in r.output, (args, r.output)
    with sqlite_db.session() as s:
        assert s.scalars(select(User.email)).all() == ["a@acme.test"]
        assert s.scalars(select(Organization.name)).all() == ["Acme"]
