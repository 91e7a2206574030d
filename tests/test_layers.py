"""The package's folders are its layers, and imports run one way: down the list in README's
"How the code is laid out". A module may import from its own layer and those before it, never
from one after it (imports inside functions included)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "topicvae"

# in order: each layer may use the ones before it
LAYERS = ["errors", "paths", "text", "corpus", "models", "scoring", "runs", "analysis", "interfaces", "train"]


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    """The layer of ``topicvae.<first part>...``; None for the package's own names (``__version__``,
    the lazy public API), which every layer may use."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every topicvae module ``path`` imports, a ``from topicvae import x`` as
    ``topicvae.x``."""
    module = _module(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("topicvae")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = ".".join(here[:len(here) - node.level + 1] + ([node.module] if node.module else []))
            if base == "topicvae":
                found += [(node.lineno, f"topicvae.{a.name}") for a in node.names]
            elif base.startswith("topicvae."):
                found.append((node.lineno, base))
    return found


def test_every_folder_and_top_module_of_the_package_is_a_layer():
    tops = {p.stem for p in PACKAGE.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert tops == set(LAYERS)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_back_up_a_layer(path):
    own = _layer(_module(path))
    if own is None:
        return
    upward = [f"line {line}: {target}" for line, target in _imports(path)
              if (_layer(target) or 0) > own]
    assert not upward, f"{_module(path)} ({LAYERS[own]}) imports a later layer: {upward}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_its_job_on_its_first_line(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc and doc.splitlines()[0].strip(), f"{_module(path)} has no docstring whose first line says its job"
