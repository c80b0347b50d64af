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
    "replay": {"domain", "engine", "replay", "config"},
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


# Inside the engine (docs/architecture.md): shared values and plumbing at the bottom, then the components,
# each importing only those to its left in  data -> strategy -> execution  and  fills -> portfolio -> risk.
ENGINE_BASE = {
    "bus",
    "commands",
    "errors",
    "events",
    "exchange",
    "guards",
    "journal",
    "markets",
    "match",
    "model",
    "ledger",
    "orders",
    "presence",
    "pricing_inputs",
    "reconciler",
    "recorder",
    "state",
    "theo_feed",
    "flow_guards",
    "write_gate",
}
ENGINE_COMPONENTS = {
    "marketdata": set(),
    "portfolio": set(),
    "risk": {"portfolio", "account_risk"},
    "account_risk": set(),
    "markouts": set(),
    "execution": {"risk"},
    "sweeps": set(),
    "strategy": {"marketdata", "risk", "execution"},
    "views": {"marketdata"},
    "lifecycle": {"marketdata", "execution", "strategy"},
    "recovery": {"lifecycle", "execution", "portfolio"},
    "engine": {
        "marketdata",
        "portfolio",
        "risk",
        "execution",
        "sweeps",
        "strategy",
        "views",
        "lifecycle",
        "recovery",
        "account_risk",
        "markouts",
    },
}


def _engine_part(path: Path) -> str:
    """The engine module (or subpackage) a file belongs to: ``engine/exchange/port.py`` -> ``exchange``."""
    return path.relative_to(PACKAGE / "engine").parts[0].removesuffix(".py")


def _engine_imports(path: Path) -> set[str]:
    """The engine modules a file imports, at any depth (``kmm_tui.engine.exchange.port`` -> ``exchange``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "kmm_tui.engine":
                names = [f"kmm_tui.engine.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["kmm_tui", "engine"] and len(parts) > 2:
                found.add(parts[2])
    return found


def test_every_engine_module_has_a_place_in_the_component_map() -> None:
    parts = {_engine_part(path) for path in _layer_files("engine")} - {"__init__"}
    assert parts - ENGINE_BASE - set(ENGINE_COMPONENTS) == set()


def test_engine_components_import_only_in_the_direction_of_the_data_flow() -> None:
    offenders = []
    for path in _layer_files("engine"):
        part = _engine_part(path)
        allowed = ENGINE_BASE | ENGINE_COMPONENTS.get(part, set())
        for name in _engine_imports(path) - {part}:
            if name not in allowed:
                offenders.append(f"{path.relative_to(PACKAGE)} imports engine.{name}")
    assert offenders == []


def test_engine_modules_import_no_circle() -> None:
    graph: dict[str, set[str]] = {}
    for path in _layer_files("engine"):
        part = _engine_part(path)
        graph.setdefault(part, set()).update(_engine_imports(path) - {part})
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, f"import circle: {' -> '.join((*trail, node))}"
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, (*trail, node))
        done.add(node)

    for start in sorted(graph):
        visit(start, ())
