"""The interviewer: a livekit-agents ``AgentSession`` with our own audio I/O, providers and brains.

``agent`` is the core: it imports ``storage`` (the shared domain layer) and no other mockline package.
"""
