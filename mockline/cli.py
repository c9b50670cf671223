"""``mockline`` command line. Each command lives in ``mockline/commands/<name>.py`` and registers itself."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="mockline",
    help="mockline: an open-source AI interviewer that talks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One module per command (group); each exposes register(app).
COMMANDS = ("db", "up", "admin", "worker", "score", "invite", "simulate", "agent", "bench")


def _load() -> None:
    for name in COMMANDS:
        importlib.import_module(f"mockline.commands.{name}").register(app)


def main() -> None:
    _load()
    app()


if __name__ == "__main__":
    main()
