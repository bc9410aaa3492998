"""Each module's ``__all__`` is what the rest of the code base uses of it: every name another
module imports from it is exported, and every exported name is used somewhere else."""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src"
# Names used from outside the code base: the console script in pyproject.toml.
ENTRY_POINTS = {("tokenward.cli", "main")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path
    for path in (SOURCE / "tokenward").rglob("*.py")
    # Alembic runs the migrations; importing __main__ runs the command line.
    if "migrations" not in path.parts and path.name != "__main__.py"
}


def _exports(path: Path) -> set[str] | None:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return None


def _uses() -> dict[str, set[str]]:
    """Module -> names other files take from it, by ``from m import n`` or as ``m.n``."""
    used: dict[str, set[str]] = defaultdict(set)
    files = [
        *SOURCE.rglob("*.py"),
        *(ROOT / "tests").rglob("*.py"),
        *(ROOT / "bench").rglob("*.py"),
    ]
    for path in files:
        own = _module_name(path) if path.is_relative_to(SOURCE) else None
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}  # local name -> one of our modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in MODULES:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                    elif node.module != own:
                        used[node.module].add(alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in MODULES and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                module = aliases.get(node.value.id)
                if module is not None and module != own:
                    used[module].add(node.attr)
    for module, name in ENTRY_POINTS:
        used[module].add(name)
    return used


USES = _uses()


def test_the_scan_sees_imports_and_attribute_uses() -> None:
    assert "decide" in USES["tokenward.policy"]
    assert "mint" in USES["tokenward.credentials"]  # used as credentials.mint(...)


def test_every_name_imported_from_a_module_is_in_its_all() -> None:
    missing = {}
    for module, names in USES.items():
        public = {name for name in names if not name.startswith("_")}
        exported = _exports(MODULES[module]) or set()
        if public - exported:
            missing[module] = sorted(public - exported)
    assert missing == {}


def test_every_exported_name_exists_and_is_used_elsewhere() -> None:
    unused = {}
    for module, path in MODULES.items():
        exported = _exports(path) or set()
        loaded = importlib.import_module(module)
        assert all(hasattr(loaded, name) for name in exported), module
        if exported - USES.get(module, set()):
            unused[module] = sorted(exported - USES.get(module, set()))
    assert unused == {}
