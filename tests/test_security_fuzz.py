"""Issue 16: no request, however malformed, gets a 5xx, and the server stays healthy afterwards.

Hypothesis drives every operation of the app's own OpenAPI schema (``app.openapi()``, so a new route is
fuzzed without touching this file) with hostile path parameters, query strings (the schema's parameters and
the names the forms and filters read), form bodies (with a valid CSRF token half the time, so validation is
reached), JSON bodies and raw bytes, as a logged-in recruiter and anonymously, against PostgreSQL (stricter
than SQLite: NUL bytes, integer overflow). Seeded per operation, so CI runs the same requests every time.

``/logout`` is left out: it would end the fuzzing recruiter's session and send the rest of the run to the
login page.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from mockline.settings import AppSettings
from mockline.web import create_app
from storage import InterviewPlan, create_invitation
from telephony import TelephonySettings
from tests.test_dashboard_seed import PASSWORD_A, seed_dashboard

pytestmark = pytest.mark.integration

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PARAM = re.compile(r"\{([^}]+)\}")
# Names the HTML forms, filters and webhooks read that the schema does not list (forms are parsed by hand).
FIELDS = [
    "page", "from", "to", "role", "status", "sort", "version", "next", "attempt", "email", "password",
    "title", "seniority", "difficulty", "interview_type", "question_count", "time_limit_minutes", "rounds",
    "job_description", "resume_text", "candidate_name", "candidate_email", "candidate_phone", "valid_days",
    "new_score", "reason", "target", "at", "invitation_id", "Digits", "CallSid", "From", "To", "CallStatus",
    "token", "sdp", "type", "resume",
]  # fmt: skip
REQUIRED = ["CallSid", "From", "CallStatus", "email", "password"]
NASTY = [
    "0", "", "-1", "1e309", "NaN", "9" * 25, "-" + "9" * 25, "2147483648", "9999-12-31", "0001-01-01",
    "\x00", "a\x00b", "%00", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "🙂" * 20,
    "a" * 5000, " ", "\n", "true", "null", "[]", "{}", "//evil.example", "/\\evil",
]  # fmt: skip


@dataclass
class Op:
    method: str
    path: str
    query: list[str]


def _operations(app) -> list[Op]:  # type: ignore[no-untyped-def]
    ops = []
    for path, methods in app.openapi()["paths"].items():
        for method, op in methods.items():
            if path == "/logout":
                continue
            query = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            ops.append(Op(method.upper(), path, query))
    return ops


def _strings(known: list[str]) -> st.SearchStrategy[str]:
    # real ids and a real link token reach past "not found"; text() has no lone surrogates (not encodable)
    return st.one_of(
        st.sampled_from([*NASTY, *known]),
        st.text(max_size=60),
        st.integers().map(str),
        st.dates().map(str),
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5),
    max_leaves=12,
)


@pytest.fixture
def fuzz_app(db, tmp_path):
    seeded = seed_dashboard(db, tmp_path)
    with db.session() as s:
        plan = InterviewPlan(title="Backend", role="backend_engineer")
        s.add(plan)
        s.flush()
        new = create_invitation(s, plan_id=plan.id, org_id=seeded.org_a, candidate_phone="+15550001111")
        known = [new.token, new.invitation.id, new.invitation.pin, plan.id, seeded.scored_a, seeded.plan_a]
    app = create_app(
        AppSettings(data_dir=str(tmp_path), api_docs=True),
        telephony=TelephonySettings(skip_signature=True, scheduler_interval_s=0),
    )
    with (
        TestClient(app, raise_server_exceptions=False) as recruiter,
        TestClient(app, raise_server_exceptions=False, client=("198.51.100.20", 4000)) as anon,
    ):
        login = CSRF.search(recruiter.get("/login").text).group(1)
        r = recruiter.post(
            "/login",
            data={"email": seeded.email_a, "password": PASSWORD_A, "csrf_token": login},
            follow_redirects=False,
        )
        assert r.status_code == 303
        own = {  # the tokens each client's forms must carry: the session's, and the double-submit cookie's
            "recruiter": [
                CSRF.search(recruiter.get("/dashboard").text).group(1),
                recruiter.cookies["ml_csrf"],  # set at login: the anonymous forms' double-submit token
            ],
            "anon": [CSRF.search(anon.get("/practice").text).group(1)],
        }
        yield app, {"recruiter": recruiter, "anon": anon}, known, own


EXAMPLES_PER_OPERATION = 25


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_no_request_gets_a_server_error(fuzz_app):
    app, clients, known, own_csrf = fuzz_app
    strings = _strings(known)
    # Hypothesis starts from the first, simplest choices: the ones that reach furthest come first.
    form = st.tuples(
        st.just("form"),
        st.fixed_dictionaries(  # what the webhooks and the login require, then any other field
            dict.fromkeys(REQUIRED, strings), optional=dict.fromkeys(set(FIELDS) - set(REQUIRED), strings)
        ),
    )
    shaped_json = st.tuples(  # shaped like an offer or a phone-screen request, so validation lets it through
        st.just("json"),
        st.fixed_dictionaries(
            {"token": strings, "sdp": strings, "type": st.just("offer"), "invitation_id": strings},
            optional={"resume": strings, "at": strings},
        ),
    )
    others = [st.tuples(st.just("json"), JSON), st.tuples(st.just("raw"), st.binary(max_size=300)), st.none()]
    form_first = st.one_of(form, shaped_json, *others)
    json_first = st.one_of(shaped_json, form, *others)

    def fuzz(op: Op) -> None:
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        @seed(zlib.crc32(f"{op.method} {op.path}".encode()))  # the same requests on every run
        @given(
            who=st.sampled_from(["recruiter", "anon"]),
            path_values=st.lists(strings, min_size=3, max_size=3),
            query=st.dictionaries(st.sampled_from(FIELDS), strings, max_size=4),
            schema_query=st.booleans(),
            body=st.none()
            if op.method != "POST"
            else json_first
            if op.path.startswith(("/rtc/", "/api/"))
            else form_first,
            csrf_choice=st.one_of(st.integers(0, 5), st.none(), st.just("forged")),
        )
        def one_request(who, path_values, query, schema_query, body, csrf_choice):  # type: ignore[no-untyped-def]
            own = own_csrf[who]
            csrf = own[csrf_choice % len(own)] if isinstance(csrf_choice, int) else csrf_choice
            path = op.path
            for name, value in zip(PARAM.findall(op.path), path_values, strict=False):
                path = path.replace("{" + name + "}", quote(value, safe="") or "x")
            if schema_query and op.query:  # make sure the schema's own parameters are exercised
                query = {**query, op.query[0]: path_values[-1]}
            url = path + ("?" + urlencode(query) if query else "")
            headers = {"X-CSRF-Token": csrf} if csrf else {}
            content: bytes | str | None = None
            if body is not None:
                kind, value = body
                if kind == "form":
                    content = urlencode({**value, "csrf_token": csrf} if csrf else value)
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                elif kind == "json":
                    content = json.dumps(value)
                    headers["Content-Type"] = "application/json"
                else:
                    content = value
                    headers["Content-Type"] = "application/octet-stream"
            r = clients[who].request(op.method, url, headers=headers, content=content, follow_redirects=False)
            assert r.status_code < 500, (
                f"{op.method} {url} as {who}, body {body!r}: {r.status_code} {r.text[:300]}"
            )

        one_request()

    for op in _operations(app):
        fuzz(op)

    # healthy afterwards: the health check answers, and the recruiter still works
    recruiter = clients["recruiter"]
    assert recruiter.get("/healthz").status_code == 200
    assert recruiter.get("/dashboard").status_code == 200
