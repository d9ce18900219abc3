"""The documentation: every relative link and anchor resolves inside the
repository, and nothing cites a document the repository does not hold."""

from __future__ import annotations

import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _tracked(pattern: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    return [p for p in out if os.path.isfile(os.path.join(ROOT, p))]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: str) -> set[str]:
    with open(path, encoding="utf-8") as file:
        text = re.sub(r"```.*?```", "", file.read(), flags=re.S)
    return {slug(m) for m in re.findall(r"(?m)^#+ (.+)$", text)}


def test_slug_matches_github():
    assert slug("The paper's width: width 1 on a GPU") == (
        "the-papers-width-width-1-on-a-gpu"
    )
    assert slug("Algorithm 1") == "algorithm-1"


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for doc in _tracked("*.md"):
        with open(os.path.join(ROOT, doc), encoding="utf-8") as file:
            text = re.sub(r"```.*?```", "", file.read(), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            resolved = os.path.normpath(
                os.path.join(ROOT, os.path.dirname(doc), path) if path else doc
            )
            if not os.path.exists(os.path.join(ROOT, resolved)):
                broken.append(f"{doc}: {target} (no such file)")
            elif (
                anchor
                and resolved.endswith(".md")
                and anchor not in _anchors(os.path.join(ROOT, resolved))
            ):
                broken.append(f"{doc}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_paper_references_in_code_name_existing_sections():
    anchors = _anchors(os.path.join(ROOT, "docs", "paper.md"))
    missing = []
    for source in _tracked("*.py") + _tracked("*.flags"):
        with open(os.path.join(ROOT, source), encoding="utf-8") as file:
            for anchor in re.findall(r"docs/paper\.md#([\w-]+)", file.read()):
                if anchor not in anchors:
                    missing.append(f"{source}: #{anchor}")
    assert not missing, "\n".join(missing)


def test_nothing_cites_documents_outside_the_repository():
    offenders = []
    for path in _tracked("*.py") + _tracked("*.md") + _tracked("*.flags"):
        with open(os.path.join(ROOT, path), encoding="utf-8") as file:
            text = file.read()
        if re.search(r"SPEC\s§|\.\./shared", text):
            offenders.append(path)
    assert not offenders, offenders


REPO_PATH = re.compile(
    r"(?<![\w./-])((?:pldt_tf|tools|tests|configs|docs)/[\w./-]*\w\.(?:py|md|flags|json|png|txt|csv))\b"
)


def test_every_repository_path_named_exists():
    """A path such as pldt_tf/perf/flops.py, named in a Markdown file, a
    docstring or a comment, names a file the repository holds."""
    missing = []
    for doc in _tracked("*.md") + _tracked("*.py") + _tracked("*.flags"):
        with open(os.path.join(ROOT, doc), encoding="utf-8") as file:
            text = file.read()
        for path in sorted(set(REPO_PATH.findall(text))):
            if not os.path.exists(os.path.join(ROOT, path)):
                missing.append(f"{doc}: {path}")
    assert not missing, "\n".join(missing)


MODULE_NAME = re.compile(r"(?<![\w./-])(pldt_tf(?:\.\w+)+)")


def _module_exists(dotted: str) -> bool:
    """A dotted name names a module or package of the repository, or one
    name that module defines (``faults.check_records`` in the package)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = os.path.join(ROOT, *parts[:end])
        for path in (base + ".py", os.path.join(base, "__init__.py")):
            if not os.path.isfile(path):
                continue
            if end == len(parts):
                return True
            if end < len(parts) - 1:
                return False
            with open(path, encoding="utf-8") as file:
                defined = re.search(
                    rf"^(?:def |class )?{re.escape(parts[end])}\b", file.read(), re.M
                )
            return defined is not None
    return False


def test_every_dotted_module_named_exists():
    """``python -m pldt_tf.x`` and ``pldt_tf.x.y`` in Markdown, docstrings,
    comments and flag files name a module the package holds (or one
    attribute of it)."""
    missing = []
    for doc in _tracked("*.md") + _tracked("*.py") + _tracked("*.flags"):
        if doc == "tests/test_docs.py":  # its own examples
            continue
        with open(os.path.join(ROOT, doc), encoding="utf-8") as file:
            text = file.read()
        for name in sorted(set(MODULE_NAME.findall(text))):
            if not _module_exists(name.rstrip(".")):
                missing.append(f"{doc}: {name}")
    assert not missing, "\n".join(missing)
