"""The mockline application: composes agent, transports, scoring and dashboard into one CLI and web app."""

__all__: list[str] = []
