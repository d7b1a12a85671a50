"""The dashboard's routes, one router per resource (``create_app`` includes them all).

| module | routes |
|---|---|
| ``overview`` | ``/``, ``/fragments/live``, ``/healthz`` |
| ``removals`` | ``/removals``, ``/feed.atom`` |
| ``posts`` | ``/post/PLATFORM/ID``, ``/verify/PLATFORM/ID`` |
| ``evidence`` | ``/bundle/PLATFORM/ID``, ``/raw/N`` (local mode only) |
| ``terms`` | ``/terms`` |
| ``accounts`` | ``/accounts`` |
| ``figures`` | ``/speed``, ``/platforms``, ``/charts/NAME.json`` |
| ``rules`` | ``/rules`` (the censor's keyword rules found by probing) |
| ``methods`` | ``/methods`` (what the study did, as the report states it) |
| ``api`` | ``POST /api/watch``, ``POST /api/takedown`` (the token; never in public mode) |
"""

from fastapi import APIRouter

from memoryhole.web.routes import (
    accounts,
    api,
    evidence,
    figures,
    methods,
    overview,
    posts,
    removals,
    rules,
    terms,
)

ROUTERS: tuple[APIRouter, ...] = (
    overview.router,
    removals.router,
    posts.router,
    evidence.router,
    terms.router,
    accounts.router,
    figures.router,
    rules.router,
    methods.router,
    api.router,
)
