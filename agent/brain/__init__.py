"""The interviewer's brains: the ``Conductor`` decides what happens next, a brain phrases it.

See ``_brain.py`` for how the runtime drives a ``Brain``; ``_conductor.py`` for the interview rules.
"""

from ._action import ACTION_KINDS, Action
from ._audience import Audience
from ._brain import Brain, build_brain
from ._conductor import Conductor
from ._detect import AnswerTraits, Intent, assess, classify
from ._errors import BrainConfigError, BrainError, ConductorError, ConductorStateError, StaleActionError
from ._heard import heard
from ._offline import OfflineBrain
from ._openai import OpenAIBrain
from ._prompt import DIRECTIVE_KEY, find_directive, render_system_prompt, to_openai_messages
from ._settings import BrainSettings, get_brain_settings

__all__ = [
    "ACTION_KINDS",
    "DIRECTIVE_KEY",
    "Action",
    "AnswerTraits",
    "Audience",
    "Brain",
    "BrainConfigError",
    "BrainError",
    "BrainSettings",
    "Conductor",
    "ConductorError",
    "ConductorStateError",
    "Intent",
    "OfflineBrain",
    "OpenAIBrain",
    "StaleActionError",
    "assess",
    "build_brain",
    "classify",
    "find_directive",
    "get_brain_settings",
    "heard",
    "render_system_prompt",
    "to_openai_messages",
]
