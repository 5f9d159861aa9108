"""Windmill on Kubernetes: a Helm release of Windmill's official chart, values generated from ``windmillStack``.

What it declares (``windmillStack.runtime: kubernetes``; reference docs/kubernetes.md):

* a Kubernetes provider for the configured kubeconfig/context, and the namespace (unless told not to);
* Kubernetes Secrets for every credential the pods read: the database URL (``postgres.mode: external``
  with ``urlSecret``), the Enterprise license and the bootstrap ``SUPERADMIN_SECRET``: the chart reads
  each with a ``secretKeyRef``, so no credential is a chart value;
* the Helm release (``pulumi_kubernetes.helm.v3.Release``) of the chart version that
  ``components/config/windmill_chart.py`` maps the Windmill version to, with ``values.chart_values``;
* the same readiness gate as the Docker runtime, so bootstrap, workspaces and sync run unchanged on top.

Its outputs are the Docker component's: ``public_url``, ``internal_url``, ``api_url``,
``windmill_version``, ``database_url`` (secret), ``bootstrap_token`` (secret) and ``readiness``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.config.windmill_chart import CHART_NAME, CHART_REPOSITORY
from components.config.windmill_stack import WindmillStackArgs
from components.windmill.readiness import ReadinessGate

from .values import (
    BOOTSTRAP_SECRET,
    BOOTSTRAP_SECRET_KEY,
    DATABASE_SECRET,
    DATABASE_SECRET_KEY,
    DEMO_DATABASE_URL,
    LICENSE_SECRET,
    LICENSE_SECRET_KEY,
    chart_values,
)


class WindmillKubernetes(pulumi.ComponentResource):
    """Windmill as a Helm release of the official chart, with the Docker component's outputs.

    ``secrets`` are the stack's named secret values (``homeops-windmill:secrets``): the database URL
    and the license are taken from there by name and stored as Kubernetes Secrets.
    """

    public_url: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    api_url: pulumi.Output[str]
    windmill_version: pulumi.Output[str]
    database_url: pulumi.Output[str]
    bootstrap_token: pulumi.Output[str] | None
    readiness: ReadinessGate

    def __init__(
        self, name: str, args: WindmillStackArgs, opts: pulumi.ResourceOptions | None = None,
        secrets: Mapping[str, pulumi.Output[str]] | None = None,
    ) -> None:
        super().__init__("homeops:windmill:WindmillKubernetes", name, None, opts)
        assert args.kubernetes is not None and args.chart is not None, "needs runtime kubernetes"
        self.args, self._name, self._secrets = args, name, dict(secrets or {})
        cluster = args.kubernetes
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig=cluster.kubeconfig, context=cluster.context, namespace=cluster.namespace,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = (
            k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": cluster.namespace}, opts=self._child())
            if cluster.create_namespace else None
        )
        self.secrets: list[k8s.core.v1.Secret] = []
        self._database()
        self._license()
        self._bootstrap_token()
        self.values = chart_values(args)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=cluster.release_name,
            namespace=cluster.namespace,
            chart=cluster.chart_path or CHART_NAME,
            version=None if cluster.chart_path else args.chart.chart_version,
            repository_opts=None if cluster.chart_path else k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPOSITORY),
            values=self.values,
            # Wait for the pods; longer than the app's startup probe budget, which covers the migrations.
            timeout=cluster.timeout_seconds,
            atomic=False,
            cleanup_on_fail=False,
            max_history=10,
            create_namespace=False,
            opts=self._child(depends_on=[*([self.namespace] if self.namespace else []), *self.secrets]),
        )
        self._readiness()

    def _child(self, **options: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self.provider, **options)  # type: ignore[arg-type]

    def _secret(self, suffix: str, secret_name: str, key: str, value: pulumi.Input[str]) -> k8s.core.v1.Secret:
        secret = k8s.core.v1.Secret(
            f"{self._name}-{suffix}",
            metadata={"name": secret_name, "namespace": self.args.kubernetes.namespace,  # type: ignore[union-attr]
                      "labels": {"app.kubernetes.io/managed-by": "homeops-windmill"}},
            type="Opaque",
            string_data={key: pulumi.Output.secret(value)},
            opts=self._child(depends_on=[self.namespace] if self.namespace else []),
        )
        self.secrets.append(secret)
        return secret

    def _database(self) -> None:
        postgres = self.args.kubernetes.postgres  # type: ignore[union-attr]
        if postgres.mode == "demo":
            pulumi.log.warn(
                "windmillStack.kubernetes.postgres.mode is demo: the chart's demo Postgres is NOT for production "
                "(one pod, password 'windmill', no persistence unless enabled): every job, user and workspace is "
                "lost when the pod goes; use mode external for anything you keep (docs/kubernetes.md)",
                resource=self,
            )
            self.database_url = pulumi.Output.secret(DEMO_DATABASE_URL)
        elif postgres.url_secret is not None:
            url = self._secrets[postgres.url_secret]
            self._secret("database-url", DATABASE_SECRET, DATABASE_SECRET_KEY, url)
            self.database_url = pulumi.Output.secret(url)
        else:
            # A Secret managed elsewhere: this program never sees the URL.
            existing = postgres.existing
            assert existing is not None
            self.database_url = pulumi.Output.secret(f"secret:{existing.name}/{existing.key}")

    def _license(self) -> None:
        name = self.args.kubernetes.license_secret  # type: ignore[union-attr]
        if name is not None:
            self._secret("license", LICENSE_SECRET, LICENSE_SECRET_KEY, self._secrets[name])

    def _bootstrap_token(self) -> None:
        # As on Docker: a generated SUPERADMIN_SECRET lets the first `pulumi up` create the workspaces.
        self.bootstrap_token = None
        if not self.args.bootstrap_token:
            return
        generated = random.RandomPassword(
            f"{self._name}-superadmin-secret", length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        self.bootstrap_token = pulumi.Output.secret(generated.result)
        self._secret("bootstrap", BOOTSTRAP_SECRET, BOOTSTRAP_SECRET_KEY, self.bootstrap_token)

    def _readiness(self) -> None:
        args = self.args
        self.readiness = ReadinessGate(
            f"{self._name}-ready",
            url=args.api_url,
            timeout_seconds=args.readiness_timeout_seconds,
            interval_seconds=args.readiness_interval_seconds,
            expected_version=args.version,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.public_url = pulumi.Output.from_input(args.base_url)
        self.internal_url = pulumi.Output.from_input(args.internal_url)
        self.api_url = self.readiness.url
        self.windmill_version = self.readiness.version
        self.register_outputs({
            "public_url": self.public_url,
            "internal_url": self.internal_url,
            "api_url": self.api_url,
            "windmill_version": self.windmill_version,
            "database_url": self.database_url,
            "bootstrap_token": self.bootstrap_token,
            "chart_version": args.chart.chart_version,  # type: ignore[union-attr]
        })
