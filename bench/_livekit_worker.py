"""``python -m bench livekit-worker --stack fakes``: ``mockline agent`` with a benchmark stack.

The same worker as ``mockline agent`` (``livekit_room.run_worker``: registration, explicit dispatch,
RoomIO, draining on SIGTERM), configured from the same ``LIVEKIT_*`` environment; only the runtime each
worker process loads is one of ``bench._stacks`` (the fixed-latency fakes, or the offline stack with a
turn-taking profile). A finished interview goes to the scoring queue as in production.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["prewarm_stack", "run"]


@functools.lru_cache(maxsize=4)
def _runtime(stack: str, profile: str) -> Any:
    from livekit_room.worker import enqueue_finished

    from ._stacks import build_runtime

    return build_runtime(stack=stack, profile=profile, on_finished=enqueue_finished)


def prewarm_stack(stack: str, profile: str, proc: Any) -> None:
    """``setup_fnc``: the stack's runtime, once per worker process (shared by its jobs)."""
    from livekit_room.worker import warm_imports

    warm_imports()
    proc.userdata["runtime"] = _runtime(stack, profile)


def run(*, stack: str, profile: str) -> None:
    from livekit_room import LiveKitConfigError, get_livekit_settings, run_worker
    from mockline.logging import setup_logging

    setup_logging("INFO")
    settings = get_livekit_settings()
    try:
        settings.check()
    except LiveKitConfigError as e:
        raise SystemExit(f"error: {e}") from None
    print(f"agent worker ({stack}/{profile}): {settings.agent_name} -> {settings.url}", flush=True)
    run_worker(settings, setup_fnc=functools.partial(prewarm_stack, stack, profile))
