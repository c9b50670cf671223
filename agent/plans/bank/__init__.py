"""Built-in question bank (YAML package data): one file per role plus ``generic.yaml``."""
