"""The Docker-hosted Windmill stack: Windmill's own docker-compose deployment, minus its weak points.

Topology (docs/windmill-api.md §11): Postgres, N servers, worker groups (``default``, ``native`` and any
extra group), the windmill-extra language server and a Caddy reverse proxy, on one private network.
What differs from the upstream compose file, and why:

* images are pinned (``main`` / ``latest`` refused) so previews are stable and upgrades deliberate;
* the Postgres password is generated (pulumi-random) and only ever travels inside secret Outputs;
* every container has a health check, and servers/workers start only once Postgres is healthy;
* nothing is published on the host except Caddy, bound to 127.0.0.1 unless configured otherwise;
* worker groups may run on other Docker hosts (``remote.py``): then, and only then, Postgres is also
  published, on a private address with TLS, for their own database role;
* the Postgres data volume is protected and retained on delete: no ``pulumi destroy`` drops it,
  and nothing the Windmill version feeds into touches Postgres, so upgrades never replace it;
* a readiness gate waits until the API answers at the URL the rest of the program will use.

Config lives under one project key, ``windmillStack``; ``components.config.windmill_stack`` validates
all of it and names the key of every bad value. The reference is docs/docker-stack.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.config.windmill_stack import (
    DB_ALIAS,
    EXTRA_ALIAS,
    EXTRA_LSP_PORT,
    SERVER_ALIAS,
    SERVER_PORT,
    WindmillStackArgs,
    WorkerGroup,
)
from components.windmill.readiness import ReadinessGate

from .caddyfile import render_caddyfile, server_alias
from .hardening import hardening
from .remote import RemoteWorkers, postgres_tls

# Paths inside the Windmill image (upstream compose), not on the host.
WORKER_LOGS_PATH = "/tmp/windmill/logs"  # noqa: S108
WORKER_CACHE_PATH = "/tmp/windmill/cache"  # noqa: S108


class WindmillStack(pulumi.ComponentResource):
    """Windmill on a Docker host: Postgres, servers, worker groups, windmill-extra and Caddy.

    Outputs: ``public_url`` (BASE_URL), ``internal_url`` (on the stack's network), ``api_url``
    (what this program calls), ``windmill_version`` (what the server reported), ``database_url``
    (secret) and ``readiness``: the readiness gate every Windmill API resource must depend on.
    ``secrets`` are the stack's named secret values (``homeops-windmill:secrets``): the TLS material
    of ``postgres.remoteAccess`` when worker groups run on other Docker hosts (``remote.py``).
    """

    public_url: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    api_url: pulumi.Output[str]
    windmill_version: pulumi.Output[str]
    database_url: pulumi.Output[str]
    readiness: ReadinessGate

    def __init__(
        self, name: str, args: WindmillStackArgs, opts: pulumi.ResourceOptions | None = None,
        secrets: Mapping[str, pulumi.Output[str]] | None = None,
    ) -> None:
        if not args.enabled:
            # Args say whether the stack exists: declaring it from disabled Args would deploy what the
            # config switched off (issue 10, windmillStack.enabled: "False").
            raise ValueError("WindmillStack needs Args with enabled true; do not declare it when windmillStack.enabled "
                             "is false")
        super().__init__("homeops:windmill:WindmillStack", name, None, opts)
        self.args, self._name, self._secrets = args, name, dict(secrets or {})
        self.provider = docker.Provider(
            f"{name}-docker",
            host=args.docker_host,
            ssh_opts=list(args.docker_ssh_opts) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._network_and_volumes()
        self._images()
        self._postgres()
        self._bootstrap_token()
        self._servers()
        self.workers = {
            group.name: [self._worker(group, index) for index in range(group.replicas)]
            for group in args.local_worker_groups
        }
        self.remote_workers = [
            RemoteWorkers(self, host, args.remote_access, self._secrets)
            for host in args.remote_hosts if args.remote_access is not None
        ]
        for remote in self.remote_workers:
            self.workers.update(remote.workers)
        self._extra()
        self._proxy()
        self._readiness()

    def _child(self, **options: Any) -> pulumi.ResourceOptions:
        """Options of a Docker resource of this stack: parented here, on this stack's Docker host."""
        return pulumi.ResourceOptions(parent=self, provider=self.provider, **options)

    # -- the parts, in the order they are declared -----------------------------------------

    def _network_and_volumes(self) -> None:
        name, prefix = self._name, self.args.name_prefix
        self.network = docker.Network(
            f"{name}-network",
            name=prefix,
            driver="bridge",
            labels=[
                docker.NetworkLabelArgs(label="org.homeops.stack", value=prefix),
                docker.NetworkLabelArgs(label="org.homeops.role", value="network"),
            ],
            opts=self._child(),
        )
        # Data: the Postgres volume is the only thing that must survive everything. protect makes
        # `pulumi destroy` refuse; retain_on_delete keeps the Docker volume even if it is unprotected
        # and deleted from the stack. A fixed name means a re-created stack finds it again.
        self.db_volume = docker.Volume(
            f"{name}-db-data",
            name=self.args.postgres.data_volume,
            labels=self._volume_labels("db_data"),
            opts=self._child(protect=True, retain_on_delete=True),
        )
        self.cache_volume = self._volume("worker-cache", "worker_dependency_cache")
        self.logs_volume = self._volume("worker-logs", "worker_logs")
        self.lsp_volume = self._volume("lsp-cache", "lsp_cache")
        # Caddy's ACME account and certificates: losing them means re-issuing, so keep the volume.
        self.caddy_volume = self._volume("caddy-data", "caddy_data", retain_on_delete=True)

    def _volume(self, suffix: str, role: str, **options: Any) -> docker.Volume:
        return docker.Volume(
            f"{self._name}-{suffix}",
            name=f"{self.args.name_prefix}_{role}",
            labels=self._volume_labels(role),
            opts=self._child(**options),
        )

    def _images(self) -> None:
        # keep_locally: replacing a pinned tag must not delete the old image, so a rollback is fast
        # and a still-running container's image is never pulled from under it.
        def image(key: str, reference: str) -> docker.RemoteImage:
            return docker.RemoteImage(
                f"{self._name}-image-{key}", name=reference, keep_locally=True, opts=self._child()
            )

        args = self.args
        self.postgres_image = image("postgres", args.postgres.image)
        self.windmill_image = image("windmill", args.windmill_image)
        self.extra_image = image("extra", args.extra.image) if args.extra.enabled else None
        self.caddy_image = image("caddy", args.caddy.image) if args.caddy.enabled else None

    def _postgres(self) -> None:
        name, args = self._name, self.args
        # special=False keeps the password URL-safe inside DATABASE_URL. No keepers: it is generated
        # once and stays in state, so every run uses the same password. It is protected and retained
        # like the volume it unlocks: the data directory knows only this password, so a destroy that
        # dropped it would leave the retained volume unusable by the next `up` (docs/docker-stack.md).
        self.db_password = random.RandomPassword(
            f"{name}-db-password", length=32, special=False,
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        password = pulumi.Output.secret(self.db_password.result)
        # Remote worker groups: Postgres is also published on the private address, with TLS (remote.py).
        remote = postgres_tls(self, args.remote_access, self._secrets) if args.remote_access else {}
        self.database_url = pulumi.Output.secret(
            pulumi.Output.format("postgres://postgres:{0}@{1}:5432/windmill?sslmode=disable", password, DB_ALIAS)
        )
        self.postgres = docker.Container(
            f"{name}-db",
            name=f"{args.name_prefix}-db",
            image=self.postgres_image.image_id,
            envs=pulumi.Output.secret(
                pulumi.Output.all(password).apply(lambda v: [f"POSTGRES_PASSWORD={v[0]}", "POSTGRES_DB=windmill"])
            ),
            command=["postgres", "-c", f"max_connections={args.postgres.max_connections}", *remote.get("command", [])],
            ports=remote.get("ports"),
            uploads=remote.get("uploads"),
            shm_size=args.postgres.shm_size_mb,
            volumes=[
                docker.ContainerVolumeArgs(volume_name=self.db_volume.name, container_path=args.postgres.data_path)
            ],
            networks_advanced=[self._network([DB_ALIAS])],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD-SHELL", "pg_isready -U postgres -d windmill"],
                interval="10s",
                timeout="5s",
                retries=5,
                start_period="30s",
            ),
            # Servers and workers are created only once Postgres is healthy.
            wait=True,
            wait_timeout=180,
            # Give Postgres time for a clean shutdown instead of a crash recovery on next start.
            destroy_grace_seconds=60,
            labels=self._labels("db"),
            **self._common(),
            opts=self._child(),
        )

    def _bootstrap_token(self) -> None:
        # A fresh instance has no API token yet. Windmill accepts SUPERADMIN_SECRET as the bearer of
        # a virtual superadmin (docs/windmill-api.md §2.2), so one `pulumi up` can create the instance and
        # its workspaces; an operator's own windmillToken takes precedence when set.
        self.superadmin_secret = (
            random.RandomPassword(
                f"{self._name}-superadmin-secret", length=48, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            if self.args.bootstrap_token
            else None
        )
        self.bootstrap_token: pulumi.Output[str] | None = (
            pulumi.Output.secret(self.superadmin_secret.result) if self.superadmin_secret is not None else None
        )

    def _servers(self) -> None:
        args = self.args
        bootstrap_env = (
            self.bootstrap_token.apply(lambda t: [f"SUPERADMIN_SECRET={t}"]) if self.bootstrap_token is not None else []
        )
        envs = pulumi.Output.secret(
            pulumi.Output.all(self.database_url, bootstrap_env).apply(
                lambda v: [f"DATABASE_URL={v[0]}", "MODE=server", f"BASE_URL={args.base_url}", *v[1]]
            )
        )
        ports = None
        if not args.caddy.enabled and args.server.port is not None:
            ports = [
                docker.ContainerPortArgs(internal=SERVER_PORT, external=args.server.port, ip=args.server.bind_address)
            ]
        logs = docker.ContainerVolumeArgs(volume_name=self.logs_volume.name, container_path=WORKER_LOGS_PATH)
        self.servers: list[docker.Container] = [
            docker.Container(
                f"{self._name}-server-{index}",
                name=f"{args.name_prefix}-server-{index}",
                image=self.windmill_image.image_id,
                envs=envs,
                ports=ports,
                volumes=[logs],
                networks_advanced=[self._network([SERVER_ALIAS, server_alias(index)])],
                healthcheck=self._windmill_healthcheck(start_period="60s"),
                # The first start runs the migrations; the readiness gate and the workers wait.
                wait=True,
                wait_timeout=args.server.wait_timeout_seconds,
                destroy_grace_seconds=30,
                labels=self._labels("server"),
                **self._common(),
                opts=self._child(depends_on=[self.postgres]),
            )
            for index in range(args.server.replicas)
        ]

    def _extra(self) -> None:
        args = self.args
        self.extra: docker.Container | None = None
        if not args.extra.enabled or self.extra_image is None:
            return
        self.extra = docker.Container(
            f"{self._name}-extra",
            name=f"{args.name_prefix}-extra",
            image=self.extra_image.image_id,
            envs=[
                "ENABLE_LSP=true",
                # Multiplayer is EE-only and the debugger runs unsigned code when enabled
                # without request signing; neither is on unless added deliberately.
                "ENABLE_MULTIPLAYER=false",
                "ENABLE_DEBUGGER=false",
                "ENABLE_NSJAIL=false",
                f"WINDMILL_BASE_URL={args.internal_url}",
            ],
            volumes=[docker.ContainerVolumeArgs(volume_name=self.lsp_volume.name, container_path="/pyls/.cache")],
            networks_advanced=[self._network([EXTRA_ALIAS])],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "bash", "-c", f"echo > /dev/tcp/127.0.0.1/{EXTRA_LSP_PORT}"],
                interval="30s",
                timeout="5s",
                retries=3,
                start_period="30s",
            ),
            labels=self._labels("extra"),
            **self._common(),
            opts=self._child(depends_on=self.servers),
        )

    def _proxy(self) -> None:
        args = self.args
        self.caddyfile = render_caddyfile(args)
        self.caddy: docker.Container | None = None
        if not args.caddy.enabled or self.caddy_image is None:
            return
        caddy = args.caddy
        ports = [docker.ContainerPortArgs(internal=80, external=caddy.port, ip=caddy.bind_address)]
        if caddy.domain:
            ports.append(docker.ContainerPortArgs(internal=443, external=caddy.https_port, ip=caddy.bind_address))
        if caddy.smtp_port is not None:
            ports.append(docker.ContainerPortArgs(internal=25, external=caddy.smtp_port, ip=caddy.bind_address))
        self.caddy = docker.Container(
            f"{self._name}-caddy",
            name=f"{args.name_prefix}-caddy",
            image=self.caddy_image.image_id,
            ports=ports,
            uploads=[docker.ContainerUploadArgs(file="/etc/caddy/Caddyfile", content=self.caddyfile)],
            volumes=[docker.ContainerVolumeArgs(volume_name=self.caddy_volume.name, container_path="/data")],
            networks_advanced=[self._network(["caddy"])],
            healthcheck=docker.ContainerHealthcheckArgs(
                # Caddy's admin API answers on localhost:2019 once the config is loaded.
                tests=["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:2019/config/"],
                interval="30s",
                timeout="5s",
                retries=3,
                start_period="10s",
            ),
            labels=self._labels("caddy"),
            **self._common(),
            opts=self._child(depends_on=[*self.servers, *([self.extra] if self.extra else [])]),
        )

    def _readiness(self) -> None:
        args = self.args
        containers: list[pulumi.Resource] = [self.postgres, *self.servers]
        for group_containers in self.workers.values():
            containers.extend(group_containers)
        containers.extend(remote.role_job for remote in self.remote_workers)
        containers.extend(c for c in (self.extra, self.caddy) if c is not None)
        self.containers = containers
        # No docker provider here: a dynamic resource must not inherit a foreign provider.
        self.readiness = ReadinessGate(
            f"{self._name}-ready",
            url=args.api_url,
            timeout_seconds=args.readiness_timeout_seconds,
            interval_seconds=args.readiness_interval_seconds,
            expected_version=args.version,
            opts=pulumi.ResourceOptions(parent=self, depends_on=containers),
        )
        self.public_url = pulumi.Output.from_input(args.base_url)
        self.internal_url = pulumi.Output.from_input(args.internal_url)
        self.api_url = self.readiness.url
        self.windmill_version = self.readiness.version
        self.register_outputs(
            {
                "public_url": self.public_url,
                "internal_url": self.internal_url,
                "api_url": self.api_url,
                "windmill_version": self.windmill_version,
                "database_url": self.database_url,
                "bootstrap_token": self.bootstrap_token,
            }
        )

    # -- shared by the parts ----------------------------------------------------------------

    def worker_env(self, group: WorkerGroup) -> list[str]:
        """A group's environment apart from DATABASE_URL: the same on this host and on remote ones."""
        static_env: dict[str, str] = {
            "MODE": "worker",
            "WORKER_GROUP": group.name,
            # Workers serve their internal API on 127.0.0.1:$PORT (a random port when unset); a
            # fixed port is what lets the health check probe /api/version.
            "PORT": str(SERVER_PORT),
        }
        if group.native:
            static_env.update({"NATIVE_MODE": "true", "SLEEP_QUEUE": "200"})
        if group.privileged:
            # What upstream compose pairs with privileged workers: PID-namespace isolation of jobs.
            static_env["FAVOR_UNSHARE_PID"] = "true"
        if group.tags:
            static_env["WORKER_TAGS"] = ",".join(group.tags)
        static_env.update(dict(group.env))
        return [f"{key}={value}" for key, value in static_env.items()]

    def _worker(self, group: WorkerGroup, index: int) -> docker.Container:
        args, name = self.args, self._name
        env_list = self.worker_env(group)
        envs = pulumi.Output.secret(
            pulumi.Output.all(self.database_url).apply(lambda v: [f"DATABASE_URL={v[0]}", *env_list])
        )
        volumes = [docker.ContainerVolumeArgs(volume_name=self.logs_volume.name, container_path=WORKER_LOGS_PATH)]
        if not group.native:
            volumes.insert(
                0, docker.ContainerVolumeArgs(volume_name=self.cache_volume.name, container_path=WORKER_CACHE_PATH)
            )
        if group.mount_docker_socket:
            # Root-equivalent access to the Docker host for every job in this group (docs/docker-stack.md).
            volumes.append(
                docker.ContainerVolumeArgs(host_path="/var/run/docker.sock", container_path="/var/run/docker.sock")
            )
        return docker.Container(
            f"{name}-worker-{group.name}-{index}",
            name=f"{args.name_prefix}-worker-{group.name}-{index}",
            image=self.windmill_image.image_id,
            envs=envs,
            memory=group.memory_mb,
            cpus=group.cpus,
            privileged=group.privileged,
            volumes=volumes,
            networks_advanced=[self._network([])],
            healthcheck=self._windmill_healthcheck(start_period="60s"),
            # Running jobs get a minute to finish when a worker is replaced (e.g. an upgrade).
            destroy_grace_seconds=60,
            labels=self._labels(f"worker-{group.name}"),
            **self._common(group.privileged),
            # Workers wait for the migrations the server runs, so start them after it is healthy.
            opts=self._child(depends_on=[self.postgres, *self.servers]),
        )

    def _windmill_healthcheck(self, start_period: str) -> docker.ContainerHealthcheckArgs:
        # The upstream compose file has none; Windmill's own integration tests probe this endpoint.
        return docker.ContainerHealthcheckArgs(
            tests=["CMD", "curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{SERVER_PORT}/api/version"],
            interval="10s",
            timeout="5s",
            retries=5,
            start_period=start_period,
        )

    def _network(self, aliases: list[str]) -> docker.ContainerNetworksAdvancedArgs:
        return docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=aliases or None)

    def _common(self, privileged: bool = False) -> dict[str, Any]:
        """What every container gets: restart policy, rotated logs and its confinement (hardening.py)."""
        return {
            **hardening(privileged),
            "restart": "unless-stopped",
            "log_driver": "json-file",
            "log_opts": {
                "max-size": self.args.log_max_size,
                "max-file": str(self.args.log_max_file),
                "compress": "true",
            },
        }

    def _labels(self, role: str) -> list[docker.ContainerLabelArgs]:
        return [
            docker.ContainerLabelArgs(label="org.homeops.stack", value=self.args.name_prefix),
            docker.ContainerLabelArgs(label="org.homeops.role", value=role),
        ]

    def _volume_labels(self, role: str) -> list[docker.VolumeLabelArgs]:
        return [
            docker.VolumeLabelArgs(label="org.homeops.stack", value=self.args.name_prefix),
            docker.VolumeLabelArgs(label="org.homeops.role", value=role),
        ]
