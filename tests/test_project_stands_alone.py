"""The project is its own: every variable it reads is documented, and nothing reaches outside its folder."""

import ast
import os
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CONFIGURATION_PAGE = ROOT / "docs" / "configuration.md"
SETTINGS_MODULES = [ROOT / "project" / "settings.py", ROOT / "project" / "env.py"]
SKIPPED_FOLDERS = {".git", ".venv", "node_modules", "__pycache__", "static", "staticfiles", ".hypothesis"}


def project_files():
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        for name in files:
            if ".sqlite3" not in name:
                path = Path(folder) / name
                yield path.relative_to(ROOT), path


def variables_read_by_settings():
    """The first argument of every env_*() call in the settings: the variables operators set."""
    names = set()
    for module in SETTINGS_MODULES:
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id.startswith("env_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def documented_variables():
    """Names in the first column of the tables of docs/configuration.md (`A`, `B` in one cell)."""
    names = set()
    for line in CONFIGURATION_PAGE.read_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_every_variable_the_settings_read_is_documented():
    assert variables_read_by_settings() - documented_variables() == set()


def test_every_documented_variable_is_read_somewhere():
    code = "\n".join(
        path.read_text(errors="ignore")
        for relative, path in project_files()
        if relative.suffix in {".py", ".sh", ""} or relative.parts[0] == ".ci"
    )
    assert {name for name in documented_variables() if name not in code} == set()


def test_nothing_in_the_project_reads_outside_its_folder():
    """A clone of the project alone builds, runs and passes: no file points into a sibling folder."""
    outside = re.compile(r"\.\./shared|\.parent\.parent\s*/\s*[\"']shared")
    offenders = [
        str(relative)
        for relative, path in project_files()
        if relative != Path("tests/test_project_stands_alone.py") and outside.search(path.read_text(errors="ignore"))
    ]
    assert offenders == []


RUNTIME_FOLDERS = ("accounts", "tasks", "schema", "project")
# The requirements files installed for each part (`make bench` installs bench's on top of the tests').
REQUIREMENTS = {
    "runtime": ("requirements.txt",),
    "tests": ("requirements-dev.txt",),
    "bench": ("requirements-dev.txt", "bench/requirements.txt"),
}


def pinned_distributions(requirements_file):
    names = set()
    for line in (ROOT / requirements_file).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            names |= pinned_distributions(Path(requirements_file).parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[\[=<>~!; ]", line, maxsplit=1)[0])
    return {_normalized(name) for name in names}


def _normalized(distribution):
    return re.sub(r"[-_.]+", "-", distribution).lower()


def imported_top_level_modules(paths):
    modules = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.partition(".")[0])
    return modules


def unpinned_imports(folders, requirements_files):
    """Third-party modules the code in `folders` imports that no distribution pinned in
    `requirements_files` provides (a module that only comes in as a dependency of one)."""
    from importlib.metadata import packages_distributions

    providers = packages_distributions()
    pinned = set().union(*map(pinned_distributions, requirements_files))
    own = {path.name for path in ROOT.iterdir() if path.is_dir()} | {path.stem for path in ROOT.glob("*.py")}
    paths = [path for folder in folders for path in (ROOT / folder).rglob("*.py") if "node_modules" not in path.parts]
    return sorted(
        module
        for module in imported_top_level_modules(paths) - own
        if module in providers and not {_normalized(name) for name in providers[module]} & pinned
    )


def test_the_code_imports_only_what_its_requirements_pin():
    """A module that comes in only as another package's dependency can disappear with an upgrade
    of that package: cross_web came with Strawberry, and Strawberry does not promise it."""
    assert unpinned_imports(RUNTIME_FOLDERS, REQUIREMENTS["runtime"]) == []
    assert unpinned_imports(("tests",), REQUIREMENTS["tests"]) == []
    assert unpinned_imports(("bench",), REQUIREMENTS["bench"]) == []


def test_the_import_check_finds_a_transitive_import():
    assert {"django", "graphql", "strawberry"} <= set(unpinned_imports(("schema",), ("bench/requirements.txt",)))
