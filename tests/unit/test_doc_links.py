"""Every relative link in the project's Markdown resolves: the file exists and the ``#anchor`` is a
heading of it (or of the same file), as GitHub renders anchors.

tests/unit/test_self_contained_docs.py keeps ``§N`` citations of the notes resolving; this covers
the Markdown links themselves (``[text](docs/x.md#a-heading)``, ``[text](#a-heading)``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# [text](target) but not ![image](…); the text may hold `code` and nested brackets one level deep.
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")
EXPLICIT_ANCHOR = re.compile(r"<a (?:name|id)=\"([^\"]+)\"")


def markdown_files() -> list[Path]:
    """The Markdown files git tracks (without git: every ``*.md`` outside ``.git`` and ``.venv``)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "*.md"], cwd=ROOT, capture_output=True,
                                check=True).stdout.decode().split("\0")
        return [ROOT / name for name in listed if name and (ROOT / name).is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in ROOT.rglob("*.md") if not {".git", ".venv"} & set(p.relative_to(ROOT).parts)]


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file: its headings' slugs (repeats numbered -1, -2 …) and <a name/id>."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(EXPLICIT_ANCHOR.findall(line))
    return found


def broken_links(path: Path, root: Path = ROOT) -> Iterator[str]:
    rel = path.relative_to(root).as_posix()
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto: … are public sources, not files of the repository
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                yield f"{rel}:{number}: {target} (no such file)"
            elif not linked.is_relative_to(root):
                yield f"{rel}:{number}: {target} (outside the repository)"
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                yield f"{rel}:{number}: {target} (no such heading in {linked.relative_to(root).as_posix()})"


def test_every_relative_link_and_anchor_resolves() -> None:
    bad = [problem for path in markdown_files() for problem in broken_links(path)]
    assert not bad, "links that lead nowhere:\n" + "\n".join(bad)


def test_the_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    assert slug("GitHub sync: token and repository") == "github-sync-token-and-repository"
    assert slug("#### `Workspace`") == "-workspace" and slug("`Workspace`") == "workspace"
    assert slug("5. Variables") == "5-variables"
    assert slug("[docs/policies.md, \"What no policy can check\"](x)") == "docspoliciesmd-what-no-policy-can-check"
    doc = tmp_path / "doc.md"
    doc.write_text("# Title\n## Same\n## Same\n```\n## Not a heading\n```\n<a name=\"kept\"></a>\n")
    assert anchors(doc) == {"title", "same", "same-1", "kept"}
    assert LINK.findall("see [the `x` table](a.md#b) and ![img](c.png), [n [m]](d.md)") == ["a.md#b", "d.md"]
    (tmp_path / "other.md").write_text("[ok](doc.md#same-1) [ok](doc.md#kept) [web](https://x.example/#y)\n"
                                       "[gone](missing.md) [no heading](doc.md#nope) `[code](nope.md)`\n")
    assert [p.split(": ", 1)[1] for p in broken_links(tmp_path / "other.md", tmp_path)] == [
        "missing.md (no such file)", "doc.md#nope (no such heading in doc.md)"]
