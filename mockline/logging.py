"""Logging setup. Candidate data (transcripts, audio) never goes into log messages."""

from __future__ import annotations

import logging


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # Third-party chatter at INFO is noise for a user of the CLI.
    for noisy in (
        "livekit.agents",
        "aioice",
        "aiortc",
        "httpx",
        "faster_whisper",
        "urllib3",
        "openai",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
