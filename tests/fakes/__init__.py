"""Fake *servers* that speak real wire protocols on 127.0.0.1, so the real client libraries run in tests."""
