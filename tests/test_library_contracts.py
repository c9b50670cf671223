"""Contracts with the private names of libraries we depend on: each fails loudly when an upgrade moves one.

Where a library has no public API for what we need, the version is pinned exactly in pyproject.toml and the
private use is checked here against the installed package:

- livekit-agents ``FallbackAdapter``: its background recovery probes are reachable only through
  ``_status[i].recovering_task`` (``agent/brain/_brain.py`` cancels them on close).
- aiortc ``RTCRtpReceiver``: the inbound jitter buffer is the name-mangled ``__jitter_buffer``
  (``signaling/_tracks.py:set_inbound_prefetch``).
- aiortc ``RTCRtpSender``: it computes the RTP audio level through the module attribute
  ``aiortc.rtp.compute_audio_level_dbov`` (``signaling/_tracks.py:use_vectorised_audio_level``).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib.metadata import version

import pytest
from aiortc import RTCPeerConnection, rtcrtpsender, rtp
from aiortc.jitterbuffer import JitterBuffer
from livekit.agents import llm

from agent.brain import BrainSettings, build_brain
from agent.plans import build_plan
from signaling._tracks import audio_level_dbov, set_inbound_prefetch, use_vectorised_audio_level
from tests.fakes.openai_server import FakeOpenAIServer, Reply

pytestmark = pytest.mark.integration

UPGRADE = "was written against {} {}: re-check the private use named in this test's module docstring"


def test_the_pinned_versions_are_installed() -> None:
    assert version("livekit-agents") == "1.8.9", UPGRADE.format("livekit-agents", "1.8.9")
    assert version("aiortc") == "1.16.0", UPGRADE.format("aiortc", "1.16.0")


async def test_a_failed_llm_turn_leaves_a_recovery_probe_that_closing_the_brain_cancels() -> None:
    async with FakeOpenAIServer() as server:
        server.script(Reply(status=500))
        server.default = Reply(hold=True)  # the probe waits on the LLM until the brain closes
        settings = BrainSettings(
            brain="llm", llm_model="fake-model", llm_timeout=5.0, openai_base_url=server.base_url,
            openai_api_key="test-key",
        )  # fmt: skip
        plan = build_plan(role="backend engineer", interview_type="technical", question_count=3, seed=11)
        brain = build_brain(plan=plan, settings=settings)
        ctx, action = brain.prepare_turn(llm.ChatContext.empty())
        async with brain.llm.chat(chat_ctx=ctx) as stream:
            said = "".join([c.delta.content async for c in stream if c.delta and c.delta.content])
        assert said == action.text  # the offline brain spoke the failed turn

        probes = brain.llm.recovery_tasks()  # type: ignore[attr-defined]
        assert len(probes) == 1, UPGRADE.format("livekit-agents", "1.8.9")
        await brain.aclose()
        assert all(p.cancelled() for p in probes)


async def test_the_inbound_jitter_buffer_can_be_replaced() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("audio").receiver
        assert set_inbound_prefetch(receiver, 1), UPGRADE.format("aiortc", "1.16.0")
        buffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
        assert isinstance(buffer, JitterBuffer) and buffer._prefetch == 1
    finally:
        await pc.close()


def test_the_sender_reads_the_audio_level_function_through_the_module() -> None:
    source = inspect.getsource(rtcrtpsender.RTCRtpSender)
    assert "rtp.compute_audio_level_dbov(" in source, UPGRADE.format("aiortc", "1.16.0")
    use_vectorised_audio_level()
    assert rtp.compute_audio_level_dbov is audio_level_dbov
    use_vectorised_audio_level()  # idempotent
    assert rtp.compute_audio_level_dbov is audio_level_dbov


def test_importing_signaling_leaves_aiortc_alone() -> None:
    """The swap happens when a peer connection is created, not as a side effect of an import."""
    code = "import signaling, aiortc.rtp as r; print(r.compute_audio_level_dbov.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "aiortc.rtp"


def test_a_room_early_pause_can_see_livekits_own_pause_of_a_reply() -> None:
    # agent/_pause_wiring.py livekit_holds_a_reply: a room's early pause hands its hold to livekit only
    # when livekit paused the reply itself (session._activity._paused_speech); otherwise it resumes
    from livekit.agents.voice import agent_activity, agent_session

    assert "self._activity: AgentActivity | None" in inspect.getsource(agent_session.AgentSession.__init__)
    source = inspect.getsource(agent_activity.AgentActivity)
    assert "self._paused_speech: _PausedSpeechInfo | None = None" in source, UPGRADE.format(
        "livekit-agents", "1.8.9"
    )
    assert "self._update_paused_speech(self._current_speech, timeout)\n" in source
