"""Readiness and version endpoints (docs/windmill-api.md §10)."""

from __future__ import annotations

from typing import Any

from .framework import Ctx, Response, Router, iso, json_response, now, text


def version_text(config: Any) -> str:
    """docs/windmill-api.md §10: ``CE v1.819.0`` / ``EE v1.819.0``."""
    return f"{config.edition} v{config.version}"


def version(ctx: Ctx) -> Response:
    """GET /api/version: no auth, text/plain (docs/windmill-api.md §10)."""
    return text(version_text(ctx.config))


def health_status(ctx: Ctx) -> Response:
    """GET /api/health/status: no auth; 200 while the DB is up, ``degraded`` without workers (§10)."""
    workers = ctx.config.workers_alive
    return json_response(
        {
            "status": "healthy" if workers > 0 else "degraded",
            "checked_at": iso(now()),
            "database_healthy": True,
            "workers_alive": workers,
        }
    )


def health_detailed(ctx: Ctx) -> Response:
    """GET /api/health/detailed: authenticated; adds the version (§10)."""
    workers = ctx.config.workers_alive
    return json_response(
        {
            "status": "healthy" if workers > 0 else "degraded",
            "checked_at": iso(now()),
            "version": version_text(ctx.config),
            "database": {"healthy": True},
            "workers": {"alive": workers},
        }
    )


def uptodate(ctx: Ctx) -> Response:
    """GET /api/uptodate: the emulator never has a newer version to offer."""
    return text("yes")


def register(router: Router) -> None:
    """Add this module's routes."""
    router.add("GET", "/api/version", version, auth="none")
    router.add("GET", "/api/health/status", health_status, auth="none")
    router.add("GET", "/api/health/detailed", health_detailed, auth="global")
    router.add("GET", "/api/uptodate", uptodate, auth="none")
