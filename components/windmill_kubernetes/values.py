"""The Helm values of Windmill's official chart, generated from the same ``windmillStack`` config as Docker.

A pure function of the Args (no Pulumi resources), so a test can check every key it writes against
the chart's values.yaml (``tests/program/fixtures/windmill_chart_values_keys.json``, read from
windmill-labs/windmill-helm-charts at the chart release in ``components/config/windmill_chart.py``).
Keys are only written where this project decides something; everything else keeps the chart default.

No credential is ever a value here: the database URL, the license and the bootstrap superadmin
secret are read by the pods from Kubernetes Secrets (``secretKeyRef``), so the values are plain,
reviewable text in every preview.
"""

from __future__ import annotations

from typing import Any

from components.config.windmill_stack import WindmillStackArgs
from components.config.windmill_stack_parts import WorkerGroup

# Kubernetes Secrets the component creates, by the names and keys the chart reads.
DATABASE_SECRET = "windmill-database"  # noqa: S105 (a Secret's name or key, not its value)
DATABASE_SECRET_KEY = "url"  # noqa: S105 (a Secret's name or key, not its value)
LICENSE_SECRET = "windmill-license"  # noqa: S105 (a Secret's name or key, not its value)
LICENSE_SECRET_KEY = "licenseKey"  # noqa: S105 (a Secret's name or key, not its value)
BOOTSTRAP_SECRET = "windmill-bootstrap"  # noqa: S105 (a Secret's name or key, not its value)
BOOTSTRAP_SECRET_KEY = "superadminSecret"  # noqa: S105 (a Secret's name or key, not its value)
# The chart's app startupProbe waits 60 x 10 s for the first answer, which covers the migrations a new
# release runs (charts/windmill/templates/app.yaml at windmill-4.0.246); the release waits longer.
APP_STARTUP_BUDGET_SECONDS = 600
# The chart's demo Postgres (postgresql.enabled): one pod, no persistence by default, password "windmill".
DEMO_DATABASE_URL = "postgres://postgres:windmill@windmill-postgresql/windmill?sslmode=disable"


def chart_values(args: WindmillStackArgs) -> dict[str, Any]:
    """The values of the Helm release for ``args`` (runtime kubernetes)."""
    kubernetes = args.kubernetes
    assert kubernetes is not None, "chart values are only for runtime kubernetes"
    protocol, domain = args.base_url.split("://", 1)
    ee = args.edition == "ee"
    windmill: dict[str, Any] = {
        # Always the configured release, even when the chart ships it: the tag is what previews show.
        "tag": args.version,
        # Pinned tags never move, so a node keeps the image it pulled (as keep_locally on Docker).
        "imagePullPolicy": "IfNotPresent",
        "appReplicas": args.server.replicas,
        "extraReplicas": 1 if args.extra.enabled else 0,
        "baseDomain": domain,
        "baseProtocol": protocol,
        "workerGroups": [_worker_group(group, ee) for group in args.worker_groups],
        "app": _app(args),
        "windmillExtra": _extra(args),
        # The full-text indexer (EE) needs object storage; the Docker runtime does not run it either.
        "indexer": {"enabled": False},
    }
    if kubernetes.postgres.mode == "external":
        secret = kubernetes.postgres.existing
        windmill["databaseUrlSecretName"] = secret.name if secret else DATABASE_SECRET
        windmill["databaseUrlSecretKey"] = secret.key if secret else DATABASE_SECRET_KEY
    return {
        "postgresql": {"enabled": kubernetes.postgres.mode == "demo"},
        "windmill": windmill,
        "ingress": _ingress(args, domain),
        "httproute": _httproute(args),
        "enterprise": _enterprise(args),
    }


def _worker_group(group: WorkerGroup, ee: bool) -> dict[str, Any]:
    limits: dict[str, Any] = {"memory": f"{group.memory_mb}Mi"}
    requests: dict[str, Any] = {"memory": f"{group.memory_mb}Mi"}
    if group.cpus is not None:
        limits["cpu"] = group.cpus
        requests["cpu"] = group.cpus
    env: list[dict[str, str]] = []
    if group.native:  # as the chart's own native group (and the Docker runtime)
        env += [{"name": "NATIVE_MODE", "value": "true"}, {"name": "SLEEP_QUEUE", "value": "200"}]
    if group.privileged and not ee:
        # The chart adds PID-namespace isolation for privileged workers only with enterprise.enabled;
        # the Docker runtime pairs privileged with it on CE too.
        env.append({"name": "FAVOR_UNSHARE_PID", "value": "true"})
    if group.tags:
        env.append({"name": "WORKER_TAGS", "value": ",".join(group.tags)})
    env += [{"name": name, "value": value} for name, value in group.env]
    entry: dict[str, Any] = {
        "name": group.name,
        "controller": "Deployment",
        "replicas": group.replicas,
        "autoscalingManaged": group.autoscaling,
        # Explicit, because the chart's default group is privileged and this project's default is not.
        "privileged": group.privileged,
        "exposeHostDocker": group.mount_docker_socket,
        "resources": {"limits": limits, "requests": requests},
        "extraEnv": env,
    }
    return entry


def _app(args: WindmillStackArgs) -> dict[str, Any]:
    app = args.kubernetes.app if args.kubernetes else None
    assert app is not None
    limits: dict[str, Any] = {"memory": f"{app.memory_mb}Mi"}
    if app.cpus is not None:
        limits["cpu"] = app.cpus
    values: dict[str, Any] = {
        "resources": {"limits": limits, "requests": dict(limits)},
        "autoscaling": {"enabled": app.autoscaling_max_replicas is not None},
        "extraEnv": [],
    }
    if app.autoscaling_max_replicas is not None:
        # The chart's HPA scales windmill-app between appReplicas and maxReplicas on CPU.
        values["autoscaling"].update({
            "maxReplicas": app.autoscaling_max_replicas,
            "targetCPUUtilizationPercentage": app.autoscaling_target_cpu_percent,
        })
    if args.bootstrap_token:
        values["extraEnv"].append({
            "name": "SUPERADMIN_SECRET",
            "valueFrom": {"secretKeyRef": {"name": BOOTSTRAP_SECRET, "key": BOOTSTRAP_SECRET_KEY}},
        })
    return values


def _extra(args: WindmillStackArgs) -> dict[str, Any]:
    # As on Docker: language servers on, the debugger off (it runs code), the gateway for /ws/*.
    values: dict[str, Any] = {"enableLsp": True, "enableDebugger": False, "enableGateway": True}
    image, _, tag = args.extra.image.rpartition(":")
    if "@" not in args.extra.image and image:
        values.update({"image": image, "tag": tag})
    return values


def _ingress(args: WindmillStackArgs, domain: str) -> dict[str, Any]:
    ingress = args.kubernetes.ingress if args.kubernetes else None
    if ingress is None:
        return {"enabled": False}
    values: dict[str, Any] = {
        "enabled": True,
        "annotations": dict(ingress.annotations),
        "tls": [{"hosts": [domain], "secretName": ingress.tls_secret}],
    }
    if ingress.class_name:
        values["className"] = ingress.class_name
    return values


def _httproute(args: WindmillStackArgs) -> dict[str, Any]:
    parents = args.kubernetes.gateway_parents if args.kubernetes else ()
    if not parents:
        return {"enabled": False}
    refs = []
    for parent in parents:
        ref = {"name": parent.name, "sectionName": parent.section_name}
        if parent.namespace:
            ref["namespace"] = parent.namespace
        refs.append(ref)
    return {"enabled": True, "parentRefs": refs}


def _enterprise(args: WindmillStackArgs) -> dict[str, Any]:
    if args.edition != "ee":
        return {"enabled": False}
    return {
        "enabled": True,
        "licenseKeySecretName": LICENSE_SECRET,
        "licenseKeySecretKey": LICENSE_SECRET_KEY,
        # Windmill's native Kubernetes autoscaler scales windmill-workers-<group> itself: it needs RBAC.
        "createKubernetesAutoscalingRolesAndBindings": any(g.autoscaling for g in args.worker_groups),
    }
