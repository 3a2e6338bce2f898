"""The modules of lab/aws import each other in one direction only (lab/README.md shows the picture).

The graph is read from the source with ast, nothing is imported: an edge A -> B is any import of B in A,
at module level or inside a function (a deferred import still closes a cycle once it runs).
"""
import ast
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "lab.aws"
PACKAGE_DIR = REPO_ROOT / "lab" / "aws"


def module_names(package_dir=PACKAGE_DIR, package=PACKAGE):
    """{module name: source path} of every module of the package (``__init__`` is the package itself)."""
    modules = {}
    for path in sorted(package_dir.glob("*.py")):
        modules[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return modules


def imported_names(tree, module, is_package):
    """Every dotted name an ast imports, relative imports resolved against ``module``."""
    here = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            yield base
            # `from lab.aws import core` imports the module lab.aws.core.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(modules):
    """{module: set of the package's modules it imports}."""
    graph = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        names = set(imported_names(tree, module, path.stem == "__init__"))
        # Importing a.b.c runs a and a.b first.
        names |= {name.rsplit(".", depth)[0] for name in names for depth in range(1, name.count(".") + 1)}
        graph[module] = {name for name in names if name in modules and name != module}
    return graph


def find_cycle(graph):
    """One cycle as a list of modules [a, b, ..., a], or None (depth-first search, three colours)."""
    visiting, done = [], set()

    def visit(module):
        visiting.append(module)
        for target in sorted(graph[module]):
            if target in visiting:
                return visiting[visiting.index(target):] + [target]
            if target not in done:
                cycle = visit(target)
                if cycle:
                    return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_lab_aws_imports_form_no_cycle():
    graph = import_graph(module_names())
    cycle = find_cycle(graph)
    assert cycle is None, "lab/aws has an import cycle: " + " -> ".join(cycle)


def test_core_imports_no_other_lab_module():
    graph = import_graph(module_names())
    assert graph[f"{PACKAGE}.core"] == set()


def test_services_import_the_core_and_the_server_imports_the_services():
    graph = import_graph(module_names())
    for service in ("ssm", "ecs", "_ecs_instances", "_ecs_services"):
        assert f"{PACKAGE}.core" in graph[f"{PACKAGE}.{service}"], service
    assert {f"{PACKAGE}.ssm", f"{PACKAGE}.ecs"} <= graph[f"{PACKAGE}.server"]


def test_the_cycle_finder_names_a_cycle(tmp_path):
    package_dir = tmp_path / "pkg"
    package_dir.mkdir()
    (package_dir / "__init__.py").write_text("")
    (package_dir / "core.py").write_text("def install():\n    from pkg import ssm\n")
    (package_dir / "ssm.py").write_text("from pkg import core\n")
    (package_dir / "helper.py").write_text("from .core import install\n")
    graph = import_graph(module_names(package_dir, "pkg"))
    # `from pkg import ssm` runs pkg/__init__.py first: the package is an edge too.
    assert graph == {"pkg": set(), "pkg.core": {"pkg", "pkg.ssm"}, "pkg.ssm": {"pkg", "pkg.core"},
                     "pkg.helper": {"pkg", "pkg.core"}}
    assert find_cycle(graph) == ["pkg.core", "pkg.ssm", "pkg.core"]


IMPORT_EACH = """
import importlib, sys, traceback
failed = {}
for module in sys.argv[1:]:
    # Forget every lab module, so that this one is imported first, on its own (moto stays loaded: it is slow).
    for name in [name for name in sys.modules if name == "lab" or name.startswith("lab.")]:
        del sys.modules[name]
    try:
        importlib.import_module(module)
    except Exception:
        failed[module] = traceback.format_exc()
for module, error in failed.items():
    print(f"--- import {module} failed:\\n{error}")
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_on_its_own():
    modules = sorted(module_names())
    process = subprocess.run([sys.executable, "-c", IMPORT_EACH, *modules], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=300)
    assert process.returncode == 0, process.stdout + process.stderr
