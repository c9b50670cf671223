"""LiveKit room mode, web side: the candidate's token and the interviewer's dispatch.

The dispatch runs the real ``livekit-api`` Twirp client against tests/fakes/livekit_twirp.py on loopback.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest
from livekit import api

from livekit_room import LiveKitConfigError, LiveKitSettings, parse_dispatch_metadata
from signaling.livekit_token import (
    DispatchFailed,
    candidate_token,
    dispatch_interviewer,
    start_livekit_interview,
)
from tests.fakes.livekit_twirp import FakeLiveKitAPI

pytestmark = pytest.mark.integration


def lk_settings(fake: FakeLiveKitAPI | None = None, **kw: object) -> LiveKitSettings:
    base: dict[str, object] = {
        "url": fake.url if fake else "wss://lk.example.com",
        "api_key": fake.api_key if fake else "lk-key",
        "api_secret": fake.api_secret if fake else "lk-secret-0123456789abcdef-0123456789",
    }
    return LiveKitSettings(**{**base, **kw})


@pytest.mark.unit
def test_candidate_token_admits_only_this_candidate_to_this_room_for_a_short_time() -> None:
    s = lk_settings(token_ttl_seconds=300)
    token = candidate_token(interview_id="iv_123", settings=s, name="Ada")
    claims = jwt.decode(token, s.api_secret.get_secret_value(), algorithms=["HS256"])
    assert claims["iss"] == "lk-key"
    assert claims["sub"] == "iv_123"  # identity = interview id: the worker listens to exactly this one
    assert claims["name"] == "Ada"
    assert claims["exp"] - claims["nbf"] == 300
    assert abs(claims["nbf"] - time.time()) < 120
    video = claims["video"]
    assert video["roomJoin"] is True and video["room"] == "interview-iv_123"
    assert video["canPublishSources"] == ["microphone"]
    assert not video.get("roomAdmin") and not video.get("roomCreate")
    # and LiveKit's own verifier accepts it with the same grants
    verified = api.TokenVerifier("lk-key", s.api_secret.get_secret_value()).verify(token)
    assert verified.identity == "iv_123" and verified.video.room == "interview-iv_123"


@pytest.mark.unit
def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = candidate_token(interview_id="iv_1", settings=lk_settings())
    with pytest.raises(Exception):  # noqa: B017 - livekit raises jwt's InvalidSignatureError
        api.TokenVerifier("lk-key", "another-secret-0123456789abcdef-0123").verify(token)


@pytest.mark.unit
@pytest.mark.parametrize("bad", ["", "../etc", "a b", "x" * 65])
def test_odd_interview_ids_are_refused_before_anything_is_signed(bad: str) -> None:
    with pytest.raises(ValueError):
        candidate_token(interview_id=bad, settings=lk_settings())


@pytest.mark.unit
def test_missing_or_placeholder_credentials_are_a_clear_error() -> None:
    with pytest.raises(LiveKitConfigError, match="LIVEKIT_URL"):
        candidate_token(interview_id="iv_1", settings=LiveKitSettings(url="", api_key="", api_secret=""))
    dev = lk_settings(api_key="devkey", api_secret="secret")
    with pytest.raises(LiveKitConfigError, match="placeholders"):
        candidate_token(interview_id="iv_1", settings=dev)
    short = lk_settings(api_secret="too-short")
    with pytest.raises(LiveKitConfigError, match="32 characters"):
        candidate_token(interview_id="iv_1", settings=short)
    # livekit-server --dev uses devkey/secret: allowed only when told this is development
    assert candidate_token(interview_id="iv_1", settings=dev.model_copy(update={"development": True}))


async def test_dispatch_reaches_livekit_with_the_interview_in_its_metadata() -> None:
    async with FakeLiveKitAPI() as fake:
        join = await start_livekit_interview(
            interview_id="iv_42", settings=lk_settings(fake), candidate_name="Ada"
        )
    [dispatch] = fake.dispatches
    assert dispatch.agent_name == "mockline-interviewer"
    assert dispatch.room == "interview-iv_42" == join.room
    assert parse_dispatch_metadata(dispatch.metadata).interview_id == "iv_42"
    assert json.loads(dispatch.metadata) == {"interview_id": "iv_42"}
    assert join.dispatch_id == dispatch.id
    assert join.url == fake.url  # no LIVEKIT_PUBLIC_URL: the browser uses the same address
    assert jwt.decode(join.token, options={"verify_signature": False})["sub"] == "iv_42"


async def test_refused_dispatch_is_a_clear_error_and_retryable_only_for_server_faults() -> None:
    async with FakeLiveKitAPI() as fake:
        fake.fail_with = 400
        with pytest.raises(DispatchFailed) as refused:
            await dispatch_interviewer(interview_id="iv_1", settings=lk_settings(fake))
        assert refused.value.retryable is False
        fake.fail_with = 503
        with pytest.raises(DispatchFailed) as down:
            await dispatch_interviewer(interview_id="iv_1", settings=lk_settings(fake))
        assert down.value.retryable is True
        wrong = lk_settings(fake, api_secret="not-the-secret-0123456789abcdef-01234")
        with pytest.raises(DispatchFailed):
            await dispatch_interviewer(interview_id="iv_1", settings=wrong)
        assert await dispatch_interviewer(interview_id="iv_1", settings=lk_settings(fake))  # still works
    assert len(fake.dispatches) == 1


async def test_unreachable_livekit_is_retryable() -> None:
    async with FakeLiveKitAPI() as fake:
        url = fake.url
    with pytest.raises(DispatchFailed) as e:
        await dispatch_interviewer(interview_id="iv_1", settings=lk_settings(None, url=url))
    assert e.value.retryable is True


async def test_reopening_the_page_reuses_the_live_dispatch_and_a_new_one_follows_an_ended_job() -> None:
    async with FakeLiveKitAPI() as fake:
        s = lk_settings(fake)
        first = await dispatch_interviewer(interview_id="iv_5", settings=s)
        assert await dispatch_interviewer(interview_id="iv_5", settings=s) == first  # no second agent
        running = api.Job(id="AJ_1", state=api.JobState(status=api.JobStatus.JS_RUNNING))
        fake.dispatches[0].state.jobs.append(running)
        assert await dispatch_interviewer(interview_id="iv_5", settings=s) == first
        fake.dispatches[0].state.jobs[0].state.status = api.JobStatus.JS_SUCCESS  # that worker is gone
        again = await dispatch_interviewer(interview_id="iv_5", settings=s)
        other_room = await dispatch_interviewer(interview_id="iv_6", settings=s)
    assert again != first and other_room not in (first, again)
    assert [d.room for d in fake.dispatches] == ["interview-iv_5", "interview-iv_5", "interview-iv_6"]
