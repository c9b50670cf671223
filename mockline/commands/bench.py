from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command(
        "bench",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def bench(ctx: typer.Context) -> None:
        """Latency and capacity benchmarks (``python -m bench``): ``mockline bench all [--quick]``."""
        from bench._cli import main

        main(list(ctx.args) or ["--help"])
