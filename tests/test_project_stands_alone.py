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


def pinned(requirements_file):
    """The distributions a requirements file pins (and those of the files it includes), normalised."""
    names = set()
    for line in requirements_file.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= pinned(requirements_file.parent / line[3:].strip())
        elif "==" in line:
            names.add(re.sub(r"[-_.]+", "-", line.split("==")[0].split("[")[0].strip().lower()))
    return names


def imported_modules(path):
    """The top-level modules a Python file imports, at any depth of the file."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_every_imported_library_is_pinned_by_name():
    """A library that only comes in with another (cross_web with Strawberry) can go away, or change,
    with that one's next release: what the code imports, a requirements file names and pins."""
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    application, development = pinned(ROOT / "requirements.txt"), pinned(ROOT / "requirements-dev.txt")
    bench = pinned(ROOT / "bench" / "requirements.txt")
    unpinned = []
    for relative, path in project_files():
        if path.suffix != ".py" or relative.parts[0] in {"examples"}:
            continue
        allowed = {"tests": development, "bench": application | bench}.get(relative.parts[0], application)
        for module in imported_modules(path):
            # A namespace package (opentelemetry) belongs to several distributions: one is enough.
            providers = {re.sub(r"[-_.]+", "-", name.lower()) for name in distributions.get(module, ())}
            if providers and not providers & allowed:
                unpinned.append(f"{relative}: {module} ({', '.join(sorted(providers))})")
    assert not unpinned, unpinned
