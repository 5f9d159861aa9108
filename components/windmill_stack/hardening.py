"""How the Docker stack's containers are confined, and why (docs/docker-stack.md, "Job isolation").

The decision, container by container:

* **Every container that is not privileged** runs with ``no-new-privileges`` (no setuid binary or
  file capability can raise a process's privileges; Postgres' entrypoint drops to its user with
  ``gosu``, which needs none) and without the capabilities no Windmill part uses:
  ``DROPPED_CAPABILITIES``. The default capabilities that remain (``CHOWN``, ``SETUID``, ...) are
  what the images' entrypoints and the workers' package installs need.
* **The container user** stays the image's: the Windmill image runs as root and writes the
  dependency caches and job directories on volumes owned by root; a fixed non-root ``user`` would
  need those volumes prepared on the host first, which this stack cannot do through the Docker API.
* **Workers keep Postgres' ``DATABASE_URL``.** A worker needs a role that can ``SET ROLE`` to
  Windmill's ``windmill_admin`` (row-level security bypass) to run jobs for every user, and that
  role reads every table, the workspaces' encryption keys included; a "lesser" role for workers
  would guard nothing. So the boundary is between the job and the worker process, not the database.
* **That boundary is the trade-off.** A job runs as a child of the worker process, in the same PID
  namespace, so a job can read ``/proc/<worker>/environ``, DATABASE_URL included: every author of
  a job is effectively a database administrator. Windmill separates them with a PID namespace per
  job (``FAVOR_UNSHARE_PID=true``, which calls ``unshare`` and needs a privileged container: what
  upstream compose does for its default workers). A privileged container is root on the host if a
  job escapes it. HomeOps' jobs come from its own reviewed repository through the sync workflow,
  so the default is **not privileged** (no host root for an escaped job, at the price of
  job-to-worker isolation); a worker group that runs code you do not write yourself gets
  ``privileged: true`` and with it ``FAVOR_UNSHARE_PID``, and should be the only group that runs it
  (worker tags).
"""

from __future__ import annotations

from typing import Any

import pulumi_docker as docker

# Raw sockets (spoofing on the stack's network), device nodes, audit writes and file capabilities:
# nothing in Postgres, Windmill, windmill-extra or Caddy uses them.
DROPPED_CAPABILITIES = ("AUDIT_WRITE", "MKNOD", "NET_RAW", "SETFCAP")
NO_NEW_PRIVILEGES = "no-new-privileges:true"


def hardening(privileged: bool = False) -> dict[str, Any]:
    """The confinement arguments of a ``docker.Container`` (none for a privileged one, which has
    every capability anyway and must keep ``unshare`` working)."""
    if privileged:
        return {}
    return {
        "security_opts": [NO_NEW_PRIVILEGES],
        "capabilities": docker.ContainerCapabilitiesArgs(drops=list(DROPPED_CAPABILITIES)),
    }
