"""Which release of Windmill's official Helm chart runs which Windmill version: the one place it is written.

The chart is windmill-labs/windmill-helm-charts (``charts/windmill``), published at ``CHART_REPOSITORY``.
Each chart release pins a Windmill release as its ``appVersion``; the rows below are read from the
history of ``charts/windmill/Chart.yaml`` (release tags ``windmill-<chart version>``). Evidence for
each row: the tag's commit, where ``Chart.yaml`` carries that ``version`` / ``appVersion`` pair.

The Kubernetes runtime generates values for one chart release, ``VERIFIED_CHART``: its values.yaml is
what ``tests/program/fixtures/windmill_chart_values_keys.json`` lists and every generated key is
checked against. A Windmill release newer than its ``appVersion`` (the default, 1.819.0, is: the
newest chart in the stored snapshot of the chart repository ships 1.794.0) runs on that chart with
the image tag set to the configured version (the chart's ``windmill.tag``), which is how the chart
documents running another release. Windmill's migrations live in the server binary, not in the
chart, so the chart only has to describe the pods, and 4.0.246's templates need nothing newer.
An older Windmill than the verified chart's ``appVersion`` is refused: the chart may rely on
behaviour that release lacks (4.0.245, for one, added reading the database URL from a file).
"""

from __future__ import annotations

from dataclasses import dataclass

CHART_REPOSITORY = "https://windmill-labs.github.io/windmill-helm-charts/"
CHART_NAME = "windmill"
CHART_SOURCE = "github.com/windmill-labs/windmill-helm-charts, charts/windmill/Chart.yaml"


@dataclass(frozen=True)
class ChartRelease:
    """One release of the chart: its version, the Windmill release it ships, and where that is written."""

    chart_version: str
    app_version: str
    commit: str
    date: str


# Newest first. Tag windmill-<chart_version> of windmill-labs/windmill-helm-charts, Chart.yaml at that commit.
CHART_RELEASES: tuple[ChartRelease, ...] = (
    ChartRelease("4.0.246", "1.794.0", "35d955d4071aedc0af2c91fc933fcd39f34311fb", "2026-08-21"),
    ChartRelease("4.0.245", "1.792.2", "5dbabc16d356d612cc4f907116dd1e222297fb24", "2026-08-20"),
    ChartRelease("4.0.243", "1.792.0", "6d4a902a685abf7b061d4651745a51e06baca040", "2026-08-18"),
    ChartRelease("4.0.242", "1.791.0", "51969b87c499ff2b32749b77b61020512683c811", "2026-08-18"),
    ChartRelease("4.0.241", "1.790.1", "0aba0247926d492f34a7920dd2a5fac787b302f9", "2026-08-17"),
    ChartRelease("4.0.240", "1.790.0", "34ce7fe2d1cfe0b34c4f4dc54eb5320e5aa9f9ac", "2026-08-15"),
    ChartRelease("4.0.239", "1.789.0", "e5996551551035d14d2cd123499bcdb62602b6a4", "2026-08-14"),
    # The pair the issue names: chart 4.0.87 ships 1.646.0.
    ChartRelease("4.0.87", "1.646.0", "21f94a8eaeb7594765940f30cca5640e8abdb54b", "2026-02-26"),
)

VERIFIED_CHART = CHART_RELEASES[0]


@dataclass(frozen=True)
class ChartChoice:
    """The chart release a Windmill version runs on, and whether the image tag overrides its appVersion."""

    release: ChartRelease
    windmill_version: str

    @property
    def chart_version(self) -> str:
        return self.release.chart_version

    @property
    def exact(self) -> bool:
        """True when the chart ships this very Windmill release (no image tag override needed)."""
        return self.release.app_version == self.windmill_version


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def chart_for(windmill_version: str) -> ChartChoice | None:
    """The verified chart for ``windmill_version``; None when that release is older than the chart's."""
    if version_key(windmill_version) < version_key(VERIFIED_CHART.app_version):
        return None
    return ChartChoice(VERIFIED_CHART, windmill_version)
