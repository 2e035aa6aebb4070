"""The code in docs/clients/ is the code of examples/, which CI compiles and runs.

Every TypeScript, TSX or JSON excerpt on those pages must appear, line for line (indentation
aside), in one file of examples/, so an excerpt cannot drift from code that builds. An excerpt
may skip lines where it holds a line `// …`.
"""

import functools
import os
import re
from pathlib import Path

import pytest
from django.conf import settings

DOCS = settings.BASE_DIR / "docs" / "clients"
EXAMPLES = settings.BASE_DIR / "examples"
EXCERPT = re.compile(r"^```(ts|tsx|json)\n(.*?)^```", re.MULTILINE | re.DOTALL)
ELISION = "// …"
SOURCE_SUFFIXES = {".ts", ".tsx", ".json"}
NOT_SOURCE = {"node_modules", "dist", "gql", "__generated__"}


def meaningful_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


@functools.cache
def example_sources():
    sources = {}
    for folder, subfolders, files in os.walk(EXAMPLES):
        subfolders[:] = [name for name in subfolders if name not in NOT_SOURCE]
        for name in files:
            path = Path(folder, name)
            if path.suffix in SOURCE_SUFFIXES and name != "package-lock.json":
                sources[path] = meaningful_lines(path.read_text())
    return sources


def contains_in_order(lines, chunks):
    start = 0
    for chunk in chunks:
        for index in range(start, len(lines) - len(chunk) + 1):
            if lines[index : index + len(chunk)] == chunk:
                start = index + len(chunk)
                break
        else:
            return False
    return True


def excerpts():
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        for match in EXCERPT.finditer(text):
            found.append(pytest.param(match.group(2), id=f"{page.name}:{text[: match.start()].count(chr(10)) + 1}"))
    return found


@pytest.mark.parametrize("excerpt", excerpts())
def test_every_excerpt_is_code_of_the_examples(excerpt):
    chunks = [meaningful_lines(chunk) for chunk in excerpt.split(ELISION)]
    chunks = [chunk for chunk in chunks if chunk]
    sources = [path for path, lines in example_sources().items() if contains_in_order(lines, chunks)]
    assert sources, f"not found in examples/:\n{excerpt}"


def test_the_pages_have_excerpts():
    assert len(excerpts()) >= 10
