"""A local fake of the Twilio REST API's Calls resource, so the real ``twilio`` client runs in tests.

``POST /2010-04-01/Accounts/{AccountSid}/Calls.json`` with HTTP Basic auth (account SID : auth token) and a
form body (``To``, ``From``, ``Url``, ``Method``, ``StatusCallback``, ``StatusCallbackEvent`` (repeated),
…). Answers like Twilio: ``201`` with the call resource as JSON, or an error document
``{"code", "message", "more_info", "status"}`` — 401 (code 20003) for bad credentials, 400 (21211) for an
invalid ``To``, 400 (21205) for a missing ``Url``, or whatever status ``fail_with`` scripts.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

_CALLS = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls\.json$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass
class RecordedCall:
    account_sid: str
    form: dict[str, list[str]]
    sid: str

    def one(self, key: str) -> str:
        return self.form[key][0]


@dataclass
class FakeTwilioRest:
    account_sid: str
    auth_token: str
    calls: list[RecordedCall] = field(default_factory=list)
    fail_with: int | None = None  # script a Twilio-side failure (e.g. 503)
    requests: int = 0

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeTwilioRest:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, code: int, message: str) -> None:
                self._reply(
                    status,
                    {
                        "code": code,
                        "message": message,
                        "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status,
                    },
                )

            def do_POST(self) -> None:
                fake.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                match = _CALLS.match(self.path)
                if match is None:
                    return self._error(404, 20404, "The requested resource was not found")
                expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                if self.headers.get("Authorization") != f"Basic {expected}" or match[1] != fake.account_sid:
                    return self._error(401, 20003, "Authenticate")
                if fake.fail_with is not None:
                    return self._error(fake.fail_with, 20500, "Internal Server Error")
                to = form.get("To", [""])[0]
                if not _E164.match(to):
                    return self._error(400, 21211, f"Invalid 'To' Phone Number: {to}")
                if not form.get("Url"):
                    return self._error(400, 21205, "Url parameter is required.")
                sid = "CA" + secrets.token_hex(16)
                fake.calls.append(RecordedCall(account_sid=match[1], form=form, sid=sid))
                return self._reply(
                    201,
                    {
                        "sid": sid,
                        "account_sid": match[1],
                        "to": to,
                        "to_formatted": to,
                        "from": form.get("From", [""])[0],
                        "from_formatted": form.get("From", [""])[0],
                        "status": "queued",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "date_created": None,
                        "date_updated": None,
                        "uri": f"/2010-04-01/Accounts/{match[1]}/Calls/{sid}.json",
                        "subresource_uris": {},
                    },
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
