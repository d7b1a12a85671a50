"""The layers of docs/architecture.md, enforced: every run-time import of every module of
``src/memoryhole`` is one its area's row allows, and no two areas import each other."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "memoryhole"
DOC = ROOT / "docs" / "architecture.md"
PRODUCT_LAB = ("sim", "bench")
EVERY = "every area"
EVERY_PRODUCT = "every product area"


def rules() -> dict[str, set[str]]:
    """Area → the areas it may import, as the doc's "Layers" table says."""
    section = DOC.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    table: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            table[cells[0].strip("`")] = cells[2]
    areas = set(table)
    product = areas - set(PRODUCT_LAB) - {"cli", "__main__"}
    allowed: dict[str, set[str]] = {}
    for area, text in table.items():
        named = set(re.findall(r"`([^`]+)`", text))
        if EVERY_PRODUCT in text:
            named |= product
        if text.startswith(EVERY):
            named |= areas
        allowed[area] = named - {area}
    return allowed


def area_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "memoryhole":
        return None
    if len(parts) == 1:
        return "__init__"
    return "version" if parts[1] == "__version__" else parts[1]


class RuntimeImports(ast.NodeVisitor):
    """The memoryhole modules a file imports when it runs (``if TYPE_CHECKING:`` left out)."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(node.lineno, alias.name) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return
        if node.module == "memoryhole":
            self.found += [(node.lineno, f"memoryhole.{alias.name}") for alias in node.names]
        else:
            self.found.append((node.lineno, node.module))


def imports() -> dict[tuple[str, str], list[str]]:
    """(from area, to area) → where (``file:line``)."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        source = area_of(module)
        visitor = RuntimeImports()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        for line, name in visitor.found:
            target = area_of(name)
            if source and target and target != source:
                edges[(source, target)].append(f"{path.relative_to(ROOT)}:{line}")
    return edges


def test_every_area_of_the_package_has_a_row() -> None:
    areas = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()))
    }
    missing = sorted(areas - set(rules()))
    assert not missing, f"areas docs/architecture.md's Layers table does not name: {missing}"


def test_every_import_is_one_its_layer_allows() -> None:
    allowed = rules()
    wrong = [
        f"{source} → {target}: {', '.join(where[:3])}"
        for (source, target), where in sorted(imports().items())
        if target not in allowed.get(source, set())
    ]
    assert not wrong, "imports the Layers table does not allow:\n" + "\n".join(wrong)


def test_no_two_areas_import_each_other_even_through_others() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, target in imports():
        graph[source].add(target)
    for start in list(graph):
        seen, stack = set(), list(graph[start])
        while stack:
            node = stack.pop()
            if node == start:
                pytest.fail(f"an import cycle through {start}")
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))


def test_the_product_never_imports_the_lab() -> None:
    allowed = rules()
    for area, targets in allowed.items():
        if area not in (*PRODUCT_LAB, "cli", "__main__"):
            assert not targets & set(PRODUCT_LAB), f"{area} may import the lab"


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    """The checker itself: an upward import in a low layer is reported."""
    visitor = RuntimeImports()
    visitor.visit(ast.parse("from memoryhole.collect import collector\nimport memoryhole.sim"))
    targets = {area_of(name) for _, name in visitor.found}
    assert targets == {"collect", "sim"}
    assert not {"collect", "sim"} & rules()["store"]
    typed = RuntimeImports()
    typed.visit(ast.parse("if TYPE_CHECKING:\n    from memoryhole.study import Study"))
    assert typed.found == []
