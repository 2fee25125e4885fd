"""The layout: four study wings, a common floor and aggregators, checked by reading the code.

What is checked (all by parsing: nothing is imported or run):
- every file in ``scripts/`` is one rule's script: ``scripts/<wing>/<rule>.py`` is the
  ``script:`` of the rule ``<rule>`` in ``rules/<wing>.smk`` or in a stage of it,
  ``rules/<wing>_<stage>.smk`` (wings: the four studies and the aggregators ``scorecard``
  and ``bench``), and every rule's script exists (a loop ``for <name>, <spec> in
  <TABLE>.items():`` around an anonymous ``rule:`` makes one rule per entry of ``<TABLE>``);
- every module of ``src/xai_repro/`` lies in one wing: a study, ``common`` or an aggregator;
- each rule's ``modules(...)`` input lists exactly the ``xai_repro`` modules its script
  imports, followed transitively through the package. ``common`` is *not* listed (a change to
  logging or the atomic writers must not rerun every job; ``--forcerun`` after a change there
  that matters). A package's ``__init__`` is followed where it is imported itself
  (``from xai_repro.<wing> import name``) but not listed: it may only re-export (next check);
- a package ``__init__.py`` holds a docstring, imports and ``__all__``, nothing else;
- no import crosses studies: a study (its modules, scripts and tests) imports only itself and
  ``common``; ``common`` imports no other wing; ``scorecard`` imports only ``common``;
  ``bench`` may import the studies and ``common``; no rule script imports another one;
- one name per study: a figure's report ``category`` in ``rules/<wing>.smk`` is ``<wing>`` and
  its caption lies in ``report/<wing>/``;
- torch checkpoints are loaded only by ``xai_repro.common.io.torch_load_checked``: no other
  ``torch.load`` call in ``src/`` or ``scripts/``;
- size: no file in ``src/`` or ``scripts/`` has more than MAX_FILE_LINES lines, and no
  function or method more than MAX_FUNCTION_LINES (from its ``def`` line to its last line,
  docstring included, decorators not).
The checkers take the repository root, so the last tests run them on small constructed trees
to show that they fail where they should.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ("duffing", "cfrl", "highway", "diffig")
# which wings each wing may import (itself included)
ALLOWED_IMPORTS = {
    **{study: {study, "common"} for study in STUDIES},
    "common": {"common"},
    "scorecard": {"scorecard", "common"},
    "stability": {"stability", "common"},
    "bench": {"bench", "common", *STUDIES},
}
WINGS = tuple(ALLOWED_IMPORTS)
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 80

RULE_HEAD = re.compile(r"^(?P<indent>[ \t]*)(?:rule|checkpoint)\s+(?P<name>\w+)\s*:")
ANONYMOUS_RULE_HEAD = re.compile(r"^(?P<indent>[ \t]*)rule\s*:")
LOOP_HEAD = re.compile(
    r"^for\s+(?P<name>\w+)\s*,\s*(?P<spec>\w+)\s+in\s+(?P<table>\w+)\.items\(\):"
)
MODULES_CALL = re.compile(r"\bmodules\((?P<args>.*?)\)", re.DOTALL)
SCRIPT_PATH = re.compile(r"\bscript:\s*[\"'](?P<path>[^\"']+)[\"']")


@dataclass(frozen=True)
class Rule:
    name: str
    smk: Path  # the rules/<wing>.smk that defines it
    script: Path | None  # resolved path of its script, if it has one
    modules: tuple[str, ...]  # the dotted names given to modules(...), in order


def rules_wing(smk: Path) -> str:
    """The wing of ``rules/<wing>.smk`` or of a stage of it, ``rules/<wing>_<stage>.smk``."""
    return smk.stem.partition("_")[0]


def _body(lines: list[str], i: int, indent: int) -> list[str]:
    """The lines of the block that starts at line ``i``, indented ``indent``."""
    body = []
    for next_line in lines[i + 1 :]:
        if next_line.strip() and len(next_line) - len(next_line.lstrip()) <= indent:
            break
        body.append(next_line)
    return body


def table_rules(smk: Path, lines: list[str], i: int, body: str) -> list[Rule]:
    """The rules an anonymous ``rule:`` at line ``i`` makes, one per entry of a table.

    The form: ``for <name>, <spec> in <TABLE>.items():`` right above the rule, ``name: <name>``
    in it, ``modules(*<spec>["modules"])`` and ``script: f"...{<name>}..."``; ``<TABLE> = {``
    at the top of the file, each entry a ``dict(...)`` or ``{...}`` with a ``modules`` list.
    """
    loop = next((LOOP_HEAD.match(line) for line in reversed(lines[:i]) if line.strip()), None)
    name = re.search(r"\bname:\s*(\w+)", body)
    if not loop or not name or name[1] != loop["name"]:
        return []
    start = lines.index(f"{loop['table']} = {{")
    end = lines.index("}", start)
    table = ast.parse("\n".join(lines[start : end + 1])).body[0].value
    script = re.search(r"\bscript:\s*f[\"']([^\"']+)[\"']", body)
    rules = []
    for key, spec in zip(table.keys, table.values):
        fields = (
            {keyword.arg: keyword.value for keyword in spec.keywords}
            if isinstance(spec, ast.Call)
            else {k.value: v for k, v in zip(spec.keys, spec.values)}
        )
        modules = fields["modules"]
        path = script[1].replace(f"{{{loop['name']}}}", key.value) if script else None
        rules.append(
            Rule(
                key.value,
                smk,
                (smk.parent / path).resolve() if path else None,
                tuple(element.value for element in modules.elts),
            )
        )
    return rules


def parse_rules(root: Path) -> list[Rule]:
    """Every rule of ``rules/*.smk`` (also those inside ``if`` blocks and table loops)."""
    rules = []
    for smk in sorted((root / "rules").glob("*.smk")):
        lines = smk.read_text().splitlines()
        for i, line in enumerate(lines):
            if anonymous := ANONYMOUS_RULE_HEAD.match(line):
                indent = len(anonymous["indent"].expandtabs())
                rules += table_rules(smk, lines, i, "\n".join(_body(lines, i, indent)))
                continue
            head = RULE_HEAD.match(line)
            if not head:
                continue
            text = "\n".join(_body(lines, i, len(head["indent"].expandtabs())))
            names = tuple(
                name
                for call in MODULES_CALL.finditer(text)
                for name in re.findall(r"[\"']([^\"']+)[\"']", call["args"])
            )
            script = SCRIPT_PATH.search(text)
            script_path = (smk.parent / script["path"]).resolve() if script else None
            rules.append(Rule(head["name"], smk, script_path, names))
    return rules


def module_file(root: Path, dotted: str) -> Path | None:
    """The file of ``xai_repro.<dotted>`` (a module, or a package's __init__), if any."""
    base = root / "src" / "xai_repro" / Path(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def dotted_name(root: Path, path: Path) -> str:
    """``src/xai_repro/diffig/io.py`` -> ``diffig.io``; a package __init__ keeps ``.__init__``."""
    return ".".join(path.relative_to(root / "src" / "xai_repro").with_suffix("").parts)


def _as_dependency(root: Path, dotted: str) -> str:
    """The module ``dotted`` names (``""``: xai_repro itself); ``?name`` if there is none."""
    path = module_file(root, dotted) if dotted else root / "src" / "xai_repro" / "__init__.py"
    return dotted_name(root, path) if path and path.is_file() else f"?{dotted}"


def package_imports(root: Path, path: Path) -> set[str]:
    """The ``xai_repro`` modules one file imports directly (dotted, relative to xai_repro).

    Covers ``import xai_repro.a.b``, ``from xai_repro.a import b`` (b a submodule or a name),
    relative imports inside the package, and imports inside functions (lazy imports).
    A module that does not exist comes back as ``?a.b``.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = None
    if path.is_relative_to(root / "src" / "xai_repro"):
        package = list(path.relative_to(root / "src" / "xai_repro").parent.parts)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "xai_repro" or alias.name.startswith("xai_repro."):
                    found.add(_as_dependency(root, alias.name.removeprefix("xai_repro")[1:]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue  # a relative import outside the package is not ours
                base = package[: len(package) - (node.level - 1)]
                parts = base + (node.module.split(".") if node.module else [])
            elif node.module == "xai_repro" or (node.module or "").startswith("xai_repro."):
                parts = node.module.split(".")[1:]
            else:
                continue
            dotted = ".".join(parts)
            for alias in node.names:
                sub = f"{dotted}.{alias.name}" if dotted else alias.name
                found.add(_as_dependency(root, sub if module_file(root, sub) else dotted))
    return found


def transitive_imports(root: Path, path: Path) -> set[str]:
    """Every ``xai_repro`` module that importing ``path`` reaches through the package."""
    seen: set[str] = set()
    todo = sorted(package_imports(root, path))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("?"):
            continue
        todo.extend(package_imports(root, module_file(root, name.removesuffix(".__init__"))))
    return seen


def tracked(names: set[str]) -> set[str]:
    """The modules a rule's modules() must list: all but common and the package __init__s."""
    return {
        name
        for name in names
        if name.split(".")[0] != "common"
        and name.split(".")[-1] != "__init__"
        and not name.startswith("?")
    }


def python_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def wing_of(root: Path, path: Path) -> str | None:
    """The wing a file belongs to: ``scripts/<wing>/``, ``src/xai_repro/<wing>/``, ``tests/<wing>/``."""
    rel = path.relative_to(root)
    if rel.parts[:2] == ("src", "xai_repro"):
        return rel.parts[2] if len(rel.parts) > 3 else None
    if rel.parts[0] in ("scripts", "tests") and len(rel.parts) > 2:
        return rel.parts[1]
    return None


# --- the checks: each returns a list of problems, one line each --------------------------


def check_scripts_are_rule_scripts(root: Path) -> list[str]:
    problems = []
    rules = parse_rules(root)
    by_script: dict[Path, list[Rule]] = {}
    for rule in rules:
        if rule.script is None:
            continue
        by_script.setdefault(rule.script, []).append(rule)
        rel = rule.script.relative_to(root) if rule.script.is_relative_to(root) else rule.script
        if not rule.script.is_file():
            problems.append(f"rule {rule.name} ({rule.smk.name}): script {rel} does not exist")
        expected = root / "scripts" / rules_wing(rule.smk) / f"{rule.name}.py"
        if rule.script != expected:
            problems.append(
                f"rule {rule.name} ({rule.smk.name}): script is {rel}, "
                f"expected {expected.relative_to(root)}"
            )
    for path in sorted(p for p in (root / "scripts").rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(root)
        owners = by_script.get(path.resolve(), [])
        if len(rel.parts) != 3 or rel.parts[1] not in WINGS:
            problems.append(f"{rel}: not in scripts/<wing>/ (wings: {', '.join(WINGS)})")
        if not owners:
            problems.append(f"{rel}: no rule runs it (every script is one rule's script)")
        elif len(owners) > 1:
            problems.append(f"{rel}: the script of several rules: {[r.name for r in owners]}")
    return problems


def check_package_wings(root: Path) -> list[str]:
    problems = []
    for path in python_files(root / "src" / "xai_repro"):
        rel = path.relative_to(root / "src" / "xai_repro")
        if rel.parts == ("__init__.py",):
            continue
        if len(rel.parts) < 2 or rel.parts[0] not in WINGS:
            problems.append(f"src/xai_repro/{rel}: not inside a wing ({', '.join(WINGS)})")
    return problems


def check_init_files_only_reexport(root: Path) -> list[str]:
    problems = []
    for path in (root / "src" / "xai_repro").rglob("__init__.py"):
        for node in ast.parse(path.read_text(), filename=str(path)).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                continue  # the docstring
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
                "__all__"
            ]:
                continue
            problems.append(
                f"{path.relative_to(root)}:{node.lineno}: a package __init__ only re-exports "
                "(it is not a modules() input)"
            )
    return sorted(problems)


def check_modules_inputs(root: Path) -> list[str]:
    problems = []
    for rule in parse_rules(root):
        if rule.script is None or not rule.script.is_file():
            continue
        want = tracked(transitive_imports(root, rule.script))
        given = set(rule.modules)
        where = f"rule {rule.name} ({rule.smk.name})"
        if len(given) != len(rule.modules):
            problems.append(f"{where}: modules() names a module twice: {list(rule.modules)}")
        if missing := sorted(want - given):
            problems.append(f"{where}: modules() lacks {missing} (its script imports them)")
        if extra := sorted(given - want):
            problems.append(f"{where}: modules() lists {extra}, which its script does not import")
    return problems


def check_imports_stay_in_wing(root: Path) -> list[str]:
    problems = []
    script_wing = {p.stem: p.parent.name for p in python_files(root / "scripts")}
    files = [
        *python_files(root / "src" / "xai_repro"),
        *python_files(root / "scripts"),
        *python_files(root / "tests"),
    ]
    for path in files:
        wing = wing_of(root, path)
        if wing is None or wing not in ALLOWED_IMPORTS:
            continue
        rel = path.relative_to(root)
        for name in sorted(package_imports(root, path)):
            target = name.split(".")[0]
            if name.startswith("?"):
                problems.append(f"{rel}: imports xai_repro.{name[1:]}, which does not exist")
            elif target != "__init__" and target not in ALLOWED_IMPORTS[wing]:
                problems.append(f"{rel}: {wing} imports xai_repro.{name}")
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                other = script_wing.get(name.split(".")[0])
                if other is None:
                    continue
                if rel.parts[0] == "scripts":
                    problems.append(f"{rel}: imports the rule script {name} (scripts stay thin)")
                elif other != wing:
                    problems.append(f"{rel}: {wing} test imports {other}'s rule script {name}")
    return problems


# Rule scripts that still define public functions or classes (methods to move into
# xai_repro.<wing>, or helpers to make private), and rule scripts whose main() no test calls
# yet. Both lists must only shrink: an entry that no longer violates fails the check, so that
# it is deleted; the listed violations are reported as warnings, by name.
PUBLIC_FUNCTIONS_LEFT = frozenset()
MAIN_UNTESTED = frozenset()


def _listed_apart(violations: dict[str, list[str]], listed, name: str) -> list[str]:
    """Problems: the violations of scripts not in ``listed``, and entries of ``listed`` that
    no longer violate; the listed scripts' violations are warned about, one by one."""
    for script in sorted(set(listed) & set(violations)):
        for text in violations[script]:
            warnings.warn(f"{text} [listed in {name}]", stacklevel=3)
    problems = [
        t for script in sorted(violations) if script not in listed for t in violations[script]
    ]
    problems += [
        f"{name} lists {script}, which no longer violates (delete the entry)"
        for script in sorted(set(listed) - set(violations))
    ]
    return problems


def check_scripts_only_unpack_and_call(root: Path, listed=PUBLIC_FUNCTIONS_LEFT) -> list[str]:
    """A rule script defines ``main`` and at most private helpers: a public function or
    class is a method someone could reuse, so it belongs in ``xai_repro.<wing>``."""
    violations: dict[str, list[str]] = {}
    for path in python_files(root / "scripts"):
        rel = path.relative_to(root)
        tree = ast.parse(path.read_text(), filename=str(path))
        found = violations.setdefault(path.stem, [])
        defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        for node in tree.body:
            if isinstance(node, defs) and node.name != "main" and not node.name.startswith("_"):
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                found.append(
                    f"{rel}:{node.lineno}: public {kind} {node.name} in a rule script "
                    f"(move it to xai_repro.{rel.parts[1]}, or make it a private helper)"
                )
        if not any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            found.append(f"{rel}: no main()")
        if not found:
            del violations[path.stem]
    return _listed_apart(violations, listed, "PUBLIC_FUNCTIONS_LEFT")


def _scripts_whose_main_is_called(path: Path, scripts: set[str]) -> set[str]:
    """The rule scripts whose ``main`` a test file calls: ``import s`` + ``s.main(...)``,
    ``from s import main [as m]`` + ``m(...)``, or ``<module>.main(...)`` on a module it
    loads by name (importlib), crediting every script the file names in a string."""
    tree = ast.parse(path.read_text(), filename=str(path))
    modules, mains, called, dynamic = {}, {}, set(), False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in scripts:
                    modules[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module in scripts and not node.level:
            for alias in node.names:
                if alias.name == "main":
                    mains[alias.asname or "main"] = node.module
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in mains:
            called.add(mains[func.id])
        elif isinstance(func, ast.Attribute) and func.attr == "main":
            if isinstance(func.value, ast.Name) and func.value.id in modules:
                called.add(modules[func.value.id])
            else:
                dynamic = True
    if dynamic:
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = Path(node.value).name.removesuffix(".py")
                if name in scripts:
                    called.add(name)
    return called


def check_every_main_is_tested(root: Path, listed=MAIN_UNTESTED) -> list[str]:
    """Every rule script's ``main()`` is called by some test in ``tests/``."""
    scripts = {p.stem: p for p in python_files(root / "scripts")}
    called = set()
    for path in python_files(root / "tests"):
        called |= _scripts_whose_main_is_called(path, set(scripts))
    violations = {
        name: [f"{scripts[name].relative_to(root)}: no test in tests/ calls its main()"]
        for name in sorted(set(scripts) - called)
    }
    return _listed_apart(violations, listed, "MAIN_UNTESTED")


def check_report_names(root: Path) -> list[str]:
    problems = []
    for smk in sorted((root / "rules").glob("*.smk")):
        text = smk.read_text()
        wing = rules_wing(smk)
        for match in re.finditer(r"\bcategory\s*=\s*[\"']([^\"']*)[\"']", text):
            if match[1] != wing:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(
                    f"rules/{smk.name}:{line}: report category {match[1]!r}, not {wing!r}"
                )
        for match in re.finditer(r"\bcaption\s*=\s*[\"']\.\./report/([^\"']*)[\"']", text):
            if Path(match[1]).parts[0] != wing:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(
                    f"rules/{smk.name}:{line}: caption report/{match[1]} outside report/{wing}/"
                )
    return problems


def check_torch_load(root: Path) -> list[str]:
    problems = []
    allowed = root / "src" / "xai_repro" / "common" / "io.py"
    for path in [*python_files(root / "src"), *python_files(root / "scripts")]:
        if path == allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "torch"
            ):
                problems.append(
                    f"{path.relative_to(root)}:{node.lineno}: torch.load (use torch_load_checked)"
                )
    return problems


def check_sizes(root: Path) -> list[str]:
    problems = []
    for path in [*python_files(root / "src"), *python_files(root / "scripts")]:
        rel = path.relative_to(root)
        source = path.read_text()
        n_lines = len(source.splitlines())
        if n_lines > MAX_FILE_LINES:
            problems.append(f"{rel}: {n_lines} lines (at most {MAX_FILE_LINES})")
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    problems.append(
                        f"{rel}:{node.lineno}: function {node.name} has {length} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    for path in sorted((root / "rules").glob("*.smk")):  # rule files too
        n_lines = len(path.read_text().splitlines())
        if n_lines > MAX_FILE_LINES:
            problems.append(f"{path.relative_to(root)}: {n_lines} lines (at most {MAX_FILE_LINES})")
    return problems


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


# --- the repository --------------------------------------------------------------------


def test_rules_are_found():
    rules = parse_rules(ROOT)
    smk_files = {rules_wing(rule.smk) for rule in rules}
    assert set(STUDIES) <= smk_files, f"rules found only in {sorted(smk_files)}"
    assert sum(rule.script is not None for rule in rules) >= 40


CHECKS = (
    check_scripts_are_rule_scripts,
    check_package_wings,
    check_init_files_only_reexport,
    check_modules_inputs,
    check_imports_stay_in_wing,
    check_report_names,
    check_torch_load,
    check_sizes,
    check_scripts_only_unpack_and_call,
    check_every_main_is_tested,
)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_layout(check):
    problems = check(ROOT)
    assert not problems, _report(problems)


# --- the checkers fail where they should: small constructed trees -----------------------


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


TOY = {
    "src/xai_repro/__init__.py": "",
    "src/xai_repro/common/__init__.py": "from xai_repro.common.io import write_json\n",
    "src/xai_repro/common/io.py": "def write_json(path, data):\n    pass\n",
    "src/xai_repro/duffing/__init__.py": "",
    "src/xai_repro/duffing/ode.py": "from .numerics import step\n",
    "src/xai_repro/duffing/numerics.py": "from xai_repro.common import write_json\nstep = 1\n",
    "src/xai_repro/duffing/explain.py": "import numpy\n",
    "scripts/duffing/simulate_duffing.py": """\
        from xai_repro.common import write_json
        from xai_repro.duffing.ode import step


        def main():
            from xai_repro.duffing import explain
        """,
    "rules/duffing.smk": """\
        rule simulate_duffing:
            input:
                modules=modules(
                    "duffing.ode",
                    "duffing.numerics",
                    "duffing.explain",
                ),
            output:
                "results/duffing/data.csv",
            script:
                "../scripts/duffing/simulate_duffing.py"


        if config["extra"]:

            rule all_duffing:
                input:
                    "results/duffing/data.csv",
        """,
    "tests/duffing/test_simulate.py": "import simulate_duffing\n\nsimulate_duffing.main()\n",
}


def on_toy(check, root: Path) -> list[str]:
    """``check`` on a constructed tree: without the repository's lists of exceptions."""
    if "listed" in inspect.signature(check).parameters:
        return check(root, listed=frozenset())
    return check(root)


def test_toy_tree_passes(tmp_path):
    root = write_tree(tmp_path, TOY)
    for check in CHECKS:
        assert on_toy(check, root) == [], check.__name__


def test_a_public_helper_in_a_rule_script_fails(tmp_path):
    script = textwrap.dedent(TOY["scripts/duffing/simulate_duffing.py"])
    script += "\n\ndef reusable():\n    pass\n\n\nclass Helper:\n    pass\n\n\ndef _private():\n    pass\n"
    root = write_tree(tmp_path, {**TOY, "scripts/duffing/simulate_duffing.py": script})
    assert on_toy(check_scripts_only_unpack_and_call, root) == [
        "scripts/duffing/simulate_duffing.py:9: public function reusable in a rule script "
        "(move it to xai_repro.duffing, or make it a private helper)",
        "scripts/duffing/simulate_duffing.py:13: public class Helper in a rule script "
        "(move it to xai_repro.duffing, or make it a private helper)",
    ]
    # listed, it is a warning; a listed script that complies is a problem (the list shrinks)
    with pytest.warns(UserWarning, match="public function reusable"):
        listed = check_scripts_only_unpack_and_call(root, listed={"simulate_duffing", "gone"})
    assert listed == [
        "PUBLIC_FUNCTIONS_LEFT lists gone, which no longer violates (delete the entry)"
    ]


@pytest.mark.parametrize(
    "test_text",
    [
        "import simulate_duffing\n",  # imported, main never called
        "import simulate_duffing\n\nsimulate_duffing.sample_inputs()\n",  # another function
        "from simulate_duffing import main\n",
        "import importlib\n\nimportlib.import_module('split_duffing').main()\n",  # another one
    ],
)
def test_a_rule_script_main_no_test_calls_fails(tmp_path, test_text):
    root = write_tree(tmp_path, {**TOY, "tests/duffing/test_simulate.py": test_text})
    assert on_toy(check_every_main_is_tested, root) == [
        "scripts/duffing/simulate_duffing.py: no test in tests/ calls its main()"
    ]


@pytest.mark.parametrize(
    "test_text",
    [
        "from simulate_duffing import main as run\n\nrun()\n",
        "import simulate_duffing as s\n\ns.main()\n",
        "import importlib\n\nimportlib.import_module('simulate_duffing').main()\n",
    ],
)
def test_each_way_of_calling_main_counts(tmp_path, test_text):
    root = write_tree(tmp_path, {**TOY, "tests/duffing/test_simulate.py": test_text})
    assert on_toy(check_every_main_is_tested, root) == []


def test_a_wrong_modules_list_fails(tmp_path):
    # the relative import ode -> numerics is missed, and a module is listed that nobody imports
    smk = TOY["rules/duffing.smk"].replace('"duffing.numerics"', '"duffing.plots"')
    root = write_tree(tmp_path, {**TOY, "rules/duffing.smk": smk})
    (root / "src/xai_repro/duffing/plots.py").write_text("")
    problems = check_modules_inputs(root)
    assert any("lacks ['duffing.numerics']" in p for p in problems), problems
    assert any("lists ['duffing.plots']" in p for p in problems), problems


def test_a_lazy_import_left_out_of_modules_fails(tmp_path):
    smk = TOY["rules/duffing.smk"].replace('"duffing.explain",\n', "")
    root = write_tree(tmp_path, {**TOY, "rules/duffing.smk": smk})
    assert check_modules_inputs(root) == [
        "rule simulate_duffing (duffing.smk): modules() lacks ['duffing.explain'] "
        "(its script imports them)"
    ]


TABLE_LOOP = """\
    STAGES = {
        "plot_duffing": dict(modules=["duffing.ode", "duffing.numerics"], mem_mb=1),
        "check_duffing": {"modules": ["duffing.ode"], "mem_mb": 1},
    }


    for _stage, _spec in STAGES.items():

        rule:
            name:
                _stage
            input:
                modules=modules(*_spec["modules"]),
            script:
                f"../scripts/duffing/{_stage}.py"
    """


def test_rules_of_a_table_loop_are_found_and_checked(tmp_path):
    script = "from xai_repro.duffing.ode import step\n"
    root = write_tree(
        tmp_path,
        {
            **TOY,
            "rules/duffing_stages.smk": TABLE_LOOP,
            "scripts/duffing/plot_duffing.py": script,
            "scripts/duffing/check_duffing.py": script,
        },
    )
    rules = {rule.name: rule for rule in parse_rules(root)}
    assert rules["plot_duffing"].modules == ("duffing.ode", "duffing.numerics")
    assert rules["check_duffing"].script == root / "scripts/duffing/check_duffing.py"
    assert check_scripts_are_rule_scripts(root) == []
    # ode imports numerics: the second entry's list misses it
    assert check_modules_inputs(root) == [
        "rule check_duffing (duffing_stages.smk): modules() lacks ['duffing.numerics'] "
        "(its script imports them)"
    ]


def test_a_stray_or_misnamed_script_fails(tmp_path):
    root = write_tree(tmp_path, TOY)
    (root / "scripts/duffing/helpers.py").write_text("")
    smk = root / "rules/duffing.smk"
    smk.write_text(smk.read_text().replace("rule simulate_duffing:", "rule simulate:"))
    problems = check_scripts_are_rule_scripts(root)
    assert "scripts/duffing/helpers.py: no rule runs it" in problems[-1], problems
    assert any("rule simulate (duffing.smk): script is" in p for p in problems), problems


def test_an_import_across_studies_fails(tmp_path):
    root = write_tree(
        tmp_path,
        {
            **TOY,
            "src/xai_repro/cfrl/__init__.py": "",
            "src/xai_repro/cfrl/data.py": "from xai_repro.duffing.ode import step\n",
            "src/xai_repro/common/io.py": "from xai_repro.cfrl import data\n",
            "tests/cfrl/test_data.py": "import simulate_duffing\n",
            "tests/duffing/test_ode.py": "from xai_repro.duffing.odes import step\n",
        },
    )
    assert check_imports_stay_in_wing(root) == [
        "src/xai_repro/cfrl/data.py: cfrl imports xai_repro.duffing.ode",
        "src/xai_repro/common/io.py: common imports xai_repro.cfrl.data",
        "tests/cfrl/test_data.py: cfrl test imports duffing's rule script simulate_duffing",
        "tests/duffing/test_ode.py: imports xai_repro.duffing.odes, which does not exist",
    ]


def test_a_report_category_or_caption_of_another_name_fails(tmp_path):
    smk = TOY["rules/duffing.smk"].replace(
        '"results/duffing/data.csv",',
        'report("results/duffing/data.csv", caption="../report/Duffing/data.rst", '
        'category="Duffing"),',
        1,
    )
    root = write_tree(tmp_path, {**TOY, "rules/duffing.smk": smk})
    assert check_report_names(root) == [
        "rules/duffing.smk:9: report category 'Duffing', not 'duffing'",
        "rules/duffing.smk:9: caption report/Duffing/data.rst outside report/duffing/",
    ]


def test_a_bare_torch_load_fails(tmp_path):
    root = write_tree(tmp_path, TOY)
    (root / "src/xai_repro/duffing/explain.py").write_text(
        "import torch\n\nnet = torch.load('x.pt')\n"
    )
    (root / "src/xai_repro/common/io.py").write_text("import torch\n\nnet = torch.load('x.pt')\n")
    assert check_torch_load(root) == [
        "src/xai_repro/duffing/explain.py:3: torch.load (use torch_load_checked)"
    ]


def test_oversized_files_and_functions_fail(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    root = write_tree(tmp_path, {**TOY, "src/xai_repro/duffing/big.py": "def big():\n" + body})
    (root / "scripts/duffing/simulate_duffing.py").write_text("x = 1\n" * (MAX_FILE_LINES + 1))
    assert check_sizes(root) == [
        f"src/xai_repro/duffing/big.py:1: function big has {MAX_FUNCTION_LINES + 1} lines "
        "(at most 80)",
        f"scripts/duffing/simulate_duffing.py: {MAX_FILE_LINES + 1} lines (at most 300)",
    ]


def test_an_init_with_code_fails_and_its_reexports_are_followed(tmp_path):
    root = write_tree(
        tmp_path,
        {
            **TOY,
            "src/xai_repro/duffing/__init__.py": """\
                from xai_repro.duffing.explain import numpy

                __all__ = ["numpy"]
                SCALE = 2.0
                """,
            "scripts/duffing/simulate_duffing.py": "from xai_repro.duffing import numpy\n",
        },
    )
    assert check_init_files_only_reexport(root) == [
        "src/xai_repro/duffing/__init__.py:4: a package __init__ only re-exports "
        "(it is not a modules() input)"
    ]
    # the script reaches duffing.explain through the __init__; ode and numerics no longer
    assert check_modules_inputs(root) == [
        "rule simulate_duffing (duffing.smk): modules() lists ['duffing.numerics', "
        "'duffing.ode'], which its script does not import"
    ]
