from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("score")
    def score(
        interview_id: str = typer.Argument(..., help="The interview to (re-)score."),
        pdf: str = typer.Option(None, "--pdf", help="Also write the report as a PDF to this path."),
    ) -> None:
        """Score an interview now, in this process; writes a new report version."""
        import asyncio
        import json

        from mockline.logging import setup_logging
        from scoring import (
            ScoringBusy,
            ScoringError,
            get_scoring_settings,
            render_pdf,
            report_json,
            run_scoring,
        )
        from storage import get_database, upgrade_to_head

        setup_logging("WARNING")
        upgrade_to_head(get_database())
        try:
            outcome = asyncio.run(run_scoring(interview_id, settings=get_scoring_settings(), force=True))
        except ScoringBusy as e:
            typer.echo(f"error: {e}; try again in {e.retry_after:.0f} s", err=True)
            raise typer.Exit(1) from None
        except ScoringError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None
        if outcome.status != "scored":
            typer.echo(f"error: interview {interview_id} was not scored: {outcome.detail}", err=True)
            raise typer.Exit(1)
        report = report_json(interview_id)
        typer.echo(
            json.dumps(
                {k: report[k] for k in ("version", "scorer", "overall", "recommendation", "summary")},
                indent=2,
            )
        )
        if pdf:
            with open(pdf, "wb") as f:
                f.write(render_pdf(report))
            typer.echo(f"PDF written to {pdf}")
