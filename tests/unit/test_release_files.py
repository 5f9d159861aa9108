"""The release files a user looks for: a licence, a changelog that starts at the current version, one version."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from homeops.version import project_version

ROOT = Path(__file__).resolve().parents[2]
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.M)


def test_the_version_has_one_source_and_the_cli_prints_it() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert project_version() == version
    printed = subprocess.run([sys.executable, "-m", "homeops", "--version"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert printed.strip() == f"homeops-windmill {version}"


def test_the_changelog_newest_release_is_the_version_and_releases_go_newest_first() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## .*$", text, re.M)
    assert headings[0] == "## [Unreleased]", "changes not yet released are collected at the top"
    releases = RELEASE.findall(text)
    assert releases, "CHANGELOG.md has no release heading '## [x.y.z] - YYYY-MM-DD'"
    assert releases[0][0] == project_version()
    versions = [tuple(int(part) for part in v.split(".")) for v, _ in releases]
    dates = [d for _, d in releases]
    assert versions == sorted(versions, reverse=True) and dates == sorted(dates, reverse=True)


def test_the_licence_is_the_one_pyproject_names_and_the_readme_says_so() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    readme = (ROOT / "README.md").read_text()
    assert "[LICENSE](LICENSE)" in readme and "[CHANGELOG.md](CHANGELOG.md)" in readme
