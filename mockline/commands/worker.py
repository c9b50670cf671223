from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker() -> None:
        """Run a scoring worker on the Redis queue (needs REDIS_URL), with the outbox sweep."""
        from mockline.logging import setup_logging
        from scoring import ScoringConfigError, get_scoring_settings
        from scoring.worker import build_worker
        from storage import get_database

        setup_logging("INFO")
        try:
            w = build_worker(get_scoring_settings(), db=get_database())
        except ScoringConfigError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"scoring worker: queue {w.queue_name}")
        w.run()
