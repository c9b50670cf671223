"""Imports flow one way: ``agent`` is the core and imports only ``storage``; the transports import it.

Read from the source (every import, including ones inside functions and under ``TYPE_CHECKING``), so a
dependency the wrong way fails here before it becomes an import cycle or a heavy import in a worker.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
OURS = {
    *("agent", "storage", "scoring", "dashboard"),
    *("signaling", "telephony", "livekit_room"),  # the transports
    *("mockline", "bench"),
}


def _imports(path: Path) -> set[str]:
    """Dotted names ``path`` imports, relative imports resolved."""
    names: set[str] = set()
    module = ".".join(path.relative_to(REPO).with_suffix("").parts)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                prefix = ".".join(module.split(".")[: -node.level])  # "pkg.__init__" counts as a module
                names.add(f"{prefix}.{node.module}" if node.module else prefix)
            elif node.module:
                names.add(node.module)
    return names


def _our_packages_imported_by(package: str) -> set[str]:
    found: set[str] = set()
    for path in (REPO / package).rglob("*.py"):
        found |= {name.split(".")[0] for name in _imports(path)} & OURS
    return found - {package}


def test_the_core_imports_only_storage() -> None:
    assert _our_packages_imported_by("agent") <= {"storage"}


def test_storage_imports_no_other_package_of_ours() -> None:
    assert _our_packages_imported_by("storage") == set()


def test_the_livekit_room_transport_sits_on_the_core() -> None:
    assert _our_packages_imported_by("livekit_room") <= {"agent", "storage", "scoring"}


def test_the_interview_handle_does_not_import_the_runtime_that_builds_it() -> None:
    handle = _imports(REPO / "agent" / "_handle.py")
    assert "agent._runtime" not in handle
    assert "agent._handle" in _imports(REPO / "agent" / "_runtime.py")
