"""The runtime's folders are layers, as the README's layout table says: each imports only the
layers above it (and the modules beside them, which import no layer), so that a change to a
command never reaches the pipeline and evaluation never depends on files in and out."""

import ast
from pathlib import Path

import edge_runtime

ROOT = Path(edge_runtime.__file__).parent

LAYERS = (
    {"contract"},
    {"inference"},
    {"pipeline"},
    {"data"},
    {"measure"},
    {"evaluation", "verdict"},
    {"analysis"},
    {"app"},
    {"cli"},
)
"""Top to bottom; a layer may import the layers above it, and nothing in its own row but
itself."""


def _layer(name: str) -> int | None:
    return next((i for i, row in enumerate(LAYERS) if name in row), None)


def _imports(path: Path) -> set[str]:
    """The ``edge_runtime`` folders and modules a file imports (their first name)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("edge_runtime.")}
    return found


def test_every_folder_is_a_layer_of_the_table():
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"models"}
    assert folders == set().union(*LAYERS)


def test_each_layer_imports_only_the_layers_above_it():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts == ("__init__.py",):  # the package's API, from every layer
            continue
        own = _layer(parts[0]) if len(parts) > 1 else -1  # a module beside them: above all
        for name in _imports(path) - {parts[0]}:
            layer = _layer(name)
            if layer is not None and layer >= own:
                wrong.append(f"{'/'.join(parts)} imports edge_runtime.{name}")
    assert not wrong, "\n".join(wrong)
