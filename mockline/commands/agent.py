from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("agent")
    def agent_worker(
        url: str = typer.Option(None, help="LiveKit server URL (default LIVEKIT_URL)."),
        executor: str = typer.Option(None, help="process (default) or thread (LIVEKIT_EXECUTOR)."),
    ) -> None:
        """Run a LiveKit agent worker: registers with LIVEKIT_URL and runs the interviews dispatched to it."""
        from livekit_room import LiveKitConfigError, get_livekit_settings, run_worker
        from mockline.logging import setup_logging

        settings = get_livekit_settings()
        if url:
            settings.url = url
        if executor:
            settings.executor = executor  # type: ignore[assignment]
        setup_logging("INFO")
        try:
            settings.check()
        except LiveKitConfigError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"agent worker: {settings.agent_name} -> {settings.url}")
        run_worker(settings)
