"""The interviewer: a livekit-agents ``AgentSession`` with our own audio I/O, providers and brains.

``agent`` is the core: it imports ``storage`` (the shared domain layer) and no other mockline package.
"""

from ._interviewer import InterviewBrain, InterviewerAgent
from ._io import OutputStats, PacedAudioOutput, PacingClock, PushAudioInput, shared_pacing_clock
from ._metrics import LatencySummary, TurnLatency, summarise
from ._persist import (
    InterviewClosed,
    InterviewNotFound,
    PersistError,
    add_recording,
    finish_interview,
    interview_report,
)
from ._process import freeze_loaded, tune_for_realtime
from ._runtime import (
    AgentRuntime,
    AgentRuntimeError,
    BrainFactory,
    InterviewHandle,
    InterviewListener,
    ProvidersUnavailable,
)
from ._shared import SharedRuntime
from .settings import AgentSettings, get_agent_settings

__all__ = [
    "AgentRuntime",
    "AgentRuntimeError",
    "AgentSettings",
    "BrainFactory",
    "InterviewBrain",
    "InterviewClosed",
    "InterviewHandle",
    "InterviewListener",
    "InterviewNotFound",
    "InterviewerAgent",
    "LatencySummary",
    "OutputStats",
    "PacedAudioOutput",
    "PacingClock",
    "PersistError",
    "ProvidersUnavailable",
    "PushAudioInput",
    "SharedRuntime",
    "TurnLatency",
    "add_recording",
    "finish_interview",
    "freeze_loaded",
    "get_agent_settings",
    "interview_report",
    "shared_pacing_clock",
    "summarise",
    "tune_for_realtime",
]
