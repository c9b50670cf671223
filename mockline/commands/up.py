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
        setup_logging(settings.log_level)
        upgrade_to_head(get_database())
        typer.echo(f"mockline is starting on {settings.base_url}")
        typer.echo(f"  health:    {settings.base_url}/healthz")
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
