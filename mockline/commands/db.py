from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)

    @db_app.command("upgrade")
    def upgrade() -> None:
        """Apply Alembic migrations up to the newest schema (DATABASE_URL, default SQLite in ./var)."""
        from storage import get_database, upgrade_to_head

        upgrade_to_head(get_database())
        typer.echo("database schema is up to date")

    app.add_typer(db_app, name="db")
