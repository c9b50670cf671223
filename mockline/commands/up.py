from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up(
        host: str = typer.Option(None, help="Bind address (default 127.0.0.1, MOCKLINE_HOST)."),
        port: int = typer.Option(None, help="Port (default 8000, MOCKLINE_PORT)."),
    ) -> None:
        """Start the web process: join page, phone webhooks, dashboard, agent sessions, scoring worker."""
        import uvicorn

        from mockline.logging import setup_logging
        from mockline.settings import get_app_settings
        from mockline.web import create_app
        from storage import get_database, upgrade_to_head

        settings = get_app_settings()
        if host:
            settings.host = host
        if port:
            settings.port = port
        settings.preload_agent = True
        setup_logging(settings.log_level)
        upgrade_to_head(get_database())
        base = settings.base_url
        typer.echo(f"mockline is starting on {base} (speech models load in the background)")
        typer.echo(f"  practise an interview now:   {base}/practice")
        typer.echo(f"  recruiter dashboard:         {base}/dashboard")
        typer.echo(
            "    first admin:               mockline admin create --email you@example.com --org 'Your org'"
        )
        typer.echo("  invite a candidate (link):   mockline invite --role 'backend engineer'")
        typer.echo(f"  Twilio voice webhook:        {base}/twilio/voice  (README: Phone interviews)")
        typer.echo(f"  health:                      {base}/healthz")
        # no permessage-deflate: Twilio sends 50 small base64 media messages a second per call; compressing
        # each costs CPU and saves little
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            ws_per_message_deflate=False,
        )
