"""The phone app with the real offline runtime in its own process, for a test that SIGKILLs it mid-call.

``python -m tests.recording_crash_server``: loads the models, binds a free loopback port, prints it on one
line, then serves until killed. ``DATABASE_URL`` and ``MOCKLINE_RECORDINGS_DIR`` come from the environment.
"""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from agent import AgentRuntime, AgentSettings
from mockline.settings import AppSettings
from mockline.web import create_app
from telephony import TelephonySettings

SECRET = "crash-test-secret-key"
PUBLIC = "https://phone.example.com"


def main() -> None:
    app = create_app(
        AppSettings(public_url=PUBLIC, secret_key=SECRET),
        telephony=TelephonySettings(auth_token="crash-token", scheduler_interval_s=0),
        runtime=AgentRuntime.load(AgentSettings(turn_detector="vad", user_away_timeout=120.0)),
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
