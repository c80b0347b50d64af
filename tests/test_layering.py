"""The engine and everything under it must not import Textual: the TUI is one front-end of many."""

import ast
from pathlib import Path

import kmm_tui

PACKAGE = Path(kmm_tui.__file__).resolve().parent
HEADLESS_LAYERS = ("domain", "kalshi", "odds", "engine", "sim", "scan")
# What each layer may import from kmm_tui (ARCHITECTURE.md): arrows point at what a layer may use.
ALLOWED = {
    "domain": {"domain"},
    "kalshi": {"domain", "kalshi"},
    "odds": {"domain", "odds", "kalshi"},
    "sim": {"domain", "sim"},
    "scan": {"domain", "kalshi", "odds", "scan"},
    "engine": {"domain", "kalshi", "odds", "engine", "scan", "config"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _layer_files(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def test_headless_layers_never_import_textual() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for layer in HEADLESS_LAYERS
        for path in _layer_files(layer)
        for name in _imports(path)
        if name == "textual" or name.startswith("textual.")
    ]
    assert offenders == []


def test_layers_import_only_what_the_architecture_allows() -> None:
    offenders = []
    for layer, allowed in ALLOWED.items():
        for path in _layer_files(layer):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] != "kmm_tui" or len(parts) < 2:
                    continue
                if parts[1] not in allowed:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_domain_is_pure() -> None:
    forbidden = {"asyncio", "httpx", "websockets", "sqlite3", "socket", "time", "random"}
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in _layer_files("domain")
        for name in _imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert offenders == []
