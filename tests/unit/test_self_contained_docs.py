"""Every reference in the repository can be followed from a clone.

The code, tests and docs cite the project's own notes (``docs/windmill-api.md §N``,
``docs/pulumi-notes.md §N``, ``docs/architecture.md``). These tests fail when a tracked file cites
those notes without their ``docs/`` folder (outside ``docs/``, where a relative link is fine), cites a
section the notes do not have, names the background files they replaced, or mentions a path of the
machine it was written on.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTES = ("windmill-api.md", "pulumi-notes.md")

MACHINE_PATHS = re.compile("|".join(re.escape(p) for p in ("/" + "work/", "/" + "tmp/", "shared" + "/reference")))
# Paths inside Windmill's containers (its image keeps logs, caches and the search index under this
# folder): a setting of the deployed service, not a path of the machine the code was written on.
CONTAINER_PATH = re.compile(r"/tmp/windmill(?![\w.-])|/tmp/windmill/")  # noqa: S108 (a pattern, no file)
FORMER_FILES = re.compile("homeops-workspace-" + "architecture|HomeOps architecture document(?!.*architecture\\.md)")
# A note named without its folder: "windmill-api.md", "pulumi-notes.md", or "pulumi-notes §14.2".
BARE_NOTE = re.compile(r"(?<![\w/.\[-])(?:windmill-api\.md|pulumi-notes\.md|(?:windmill-api|pulumi-notes)(?= ?§))")
SECTION = re.compile(r"§ ?(\d+(?:\.\d+)*)(?: item (\d+))?")


def tracked_files() -> list[Path]:
    """The files git tracks (a checkout without git: every file outside ``.git`` and ``.venv``)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    skip = (".git/", ".venv/")
    itself = Path(__file__).resolve()  # its patterns and examples name what it looks for
    return [ROOT / name for name in names
            if not name.startswith(skip) and (ROOT / name).is_file() and (ROOT / name).resolve() != itself]


def text_lines() -> Iterator[tuple[str, int, str]]:
    """(path relative to the root, line number, line) of every tracked text file."""
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            yield rel, number, line


def sections_of(note: str) -> set[str]:
    """The section numbers of ``docs/<note>`` ("3", "4.2") and the items of its §15 list ("15 item 4")."""
    found: set[str] = set()
    current = None
    for line in (ROOT / "docs" / note).read_text().splitlines():
        heading = re.match(r"#{2,4} (\d+(?:\.\d+)*)\.? ", line)
        if heading:
            current = heading.group(1)
            found.add(current)
            continue
        item = re.match(r"(\d+)\. ", line)
        if item and current is not None and "." not in current:
            found.add(f"{current} item {item.group(1)}")
    return found


def test_notes_are_cited_by_their_path_in_the_repository() -> None:
    """Outside docs/, ``windmill-api.md`` and ``pulumi-notes.md`` are cited as ``docs/…``."""
    bad = [f"{rel}:{number}: {line.strip()}" for rel, number, line in text_lines()
           if not rel.startswith("docs/") and BARE_NOTE.search(line)]
    assert not bad, "cite the notes as docs/windmill-api.md or docs/pulumi-notes.md:\n" + "\n".join(bad)


def test_no_path_of_the_machine_the_code_was_written_on() -> None:
    bad = [f"{rel}:{number}: {line.strip()}" for rel, number, line in text_lines()
           if MACHINE_PATHS.search(CONTAINER_PATH.sub("", line))]
    assert not bad, "a path that exists only on one machine (write the notes in docs/ instead):\n" + "\n".join(bad)


def test_no_reference_to_the_background_files_the_docs_replaced() -> None:
    bad = [f"{rel}:{number}: {line.strip()}" for rel, number, line in text_lines() if FORMER_FILES.search(line)]
    assert not bad, "the HomeOps design is docs/architecture.md:\n" + "\n".join(bad)


def cited_sections() -> Iterator[tuple[str, str, str]]:
    """(where, note, section) for every ``§N`` cited after a note's name.

    A ``§`` belongs to the note named last before it on its line, or, on a line naming no note, to the
    note the file named last above it; sections of other standards (``RFC 9110 §10.2.3``) are skipped.
    """
    tokens = re.compile(r"(?P<note>windmill-api|pulumi-notes)|(?P<other>\bRFC ?\d+)|" + SECTION.pattern)
    last_note: dict[str, str | None] = {}
    for rel, number, line in text_lines():
        if rel in {"docs/windmill-api.md", "docs/pulumi-notes.md"}:
            continue  # their own cross-references are checked below
        note = last_note.get(rel)
        for match in tokens.finditer(line):
            if match.group("note"):
                note = last_note[rel] = match.group("note") + ".md"
            elif match.group("other"):
                note = None
            elif note is not None:
                section = match.group(3) + (f" item {match.group(4)}" if match.group(4) else "")
                yield f"{rel}:{number}", note, section


@pytest.mark.parametrize("note", NOTES)
def test_every_cited_section_exists(note: str) -> None:
    sections = sections_of(note)
    bad = [f"{where}: §{section}" for where, cited, section in cited_sections()
           if cited == note and section not in sections]
    assert not bad, f"docs/{note} has no such section:\n" + "\n".join(bad)


@pytest.mark.parametrize("note", NOTES)
def test_the_notes_own_cross_references_exist(note: str) -> None:
    """Inside each note, a bare ``§N`` means a section of the same note."""
    sections = sections_of(note)
    other = {"windmill-api.md": "pulumi-notes.md", "pulumi-notes.md": "windmill-api.md"}[note]
    bad = []
    for number, line in enumerate((ROOT / "docs" / note).read_text().splitlines(), start=1):
        own_part = line.split(other)[0]  # "§N" after the other note's name are that note's
        for match in SECTION.finditer(own_part):
            section = match.group(1) + (f" item {match.group(2)}" if match.group(2) else "")
            if section not in sections:
                bad.append(f"docs/{note}:{number}: §{section}")
    assert not bad, "\n".join(bad)


def test_the_checks_see_what_they_look_for() -> None:
    """The patterns match the forms they must refuse and leave the allowed forms alone."""
    assert BARE_NOTE.search("(windmill-api.md §5)") and BARE_NOTE.search("pulumi-notes §14.2")
    assert not BARE_NOTE.search("docs/windmill-api.md §5") and not BARE_NOTE.search("windmill-api 1.819.0")
    assert MACHINE_PATHS.search("see " + "/" + "work/main") and MACHINE_PATHS.search("/" + "tmp/x.log")
    assert not MACHINE_PATHS.search(CONTAINER_PATH.sub("", 'container_path="/tmp/windmill/logs"'))
    assert FORMER_FILES.search("the HomeOps architecture document says")
    assert not FORMER_FILES.search("the HomeOps architecture document (docs/architecture.md)")
    assert {"3", "4.2", "15 item 14"} <= sections_of("windmill-api.md")
    assert {"7", "14.2", "23.4"} <= sections_of("pulumi-notes.md")
    assert "16" not in sections_of("windmill-api.md")
