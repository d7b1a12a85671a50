"""What every route shares, handed to it by FastAPI's dependency injection.

One :class:`Dashboard` per app (on ``app.state``): the study, the serve options, the figure
cache, the Merkle tree cache and the templates. Routes ask for it with ``d: DashboardDep``.
A dependency that must answer instead of the route raises :class:`Refused` with the response
(the app factory turns it back into that response).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.analysis.overview import (
    Activity,
    SpeedFigures,
    TermTable,
    VerdictCounts,
    WatchedTarget,
    activity,
    term_table,
)
from memoryhole.store.coverage import CoverageGap, GapIndex
from memoryhole.study import Study
from memoryhole.web.cache import CacheSettings, FigureCache
from memoryhole.web.evidence import TreeCache
from memoryhole.web.feed import RemovalIndex
from memoryhole.web.render import make_templates

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
PER_PAGE = 50
READ_ONLY = "public mode is read-only: serve without --public to change the study"


@dataclass(frozen=True)
class ServeOptions:
    public: bool = False
    token: str | None = None
    background: bool = True
    allowed_hosts: frozenset[str] = LOOPBACK_HOSTS
    check_host: bool = True
    cache: CacheSettings = field(default_factory=CacheSettings)


class Refused(Exception):
    """Raised by a dependency to answer ``response`` instead of running the route."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class Dashboard:
    """Everything a request needs: the study, the options, the figure cache, the templates."""

    def __init__(self, study: Study, options: ServeOptions) -> None:
        self.study = study
        self.options = options
        self.cache = FigureCache(study, options.cache, background=options.background)
        self.templates = make_templates()
        self.trees = TreeCache(study)
        if options.background:  # proofs are O(log n) once the tree was hashed once
            self.cache.register("evidence_tree", "slow", self.trees.warm)

    @property
    def public(self) -> bool:
        return self.options.public

    def target_label(self, target: WatchedTarget) -> str:
        if self.public and target.kind == "user" and target.key:
            return f"{target.platform}:user/{self.study.pseudonym(target.platform, target.key)}"
        return target.spec

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("title", "memoryhole")
        context.setdefault("charts", False)
        context.update(
            {
                "request": request,
                "public": self.public,
                "study_name": self.study.path.resolve().name,
                "feed_url": "/feed.atom",
                "path": request.url.path,
                # A figure whose computation failed shows as missing on its page: every page
                # says so, never an empty section that reads like "nothing happened".
                "figure_errors": sorted(self.cache.errors),
            }
        )
        html = self.templates.get_template(name).render(context)
        return HTMLResponse(html, status_code=status)

    def pending(self, request: Request, title: str, what: str) -> Response:
        """The page shown while a figure is computed for the first time (it polls)."""
        return self.render(request, "pending.html", title=title, what=what, status=200)

    # -- the figures, as the cache has them (None while not computed yet) ---------------------

    def counts(self) -> VerdictCounts | None:
        value: VerdictCounts | None = self.cache.get("counts")
        return value

    def speed(self) -> SpeedFigures | None:
        value: SpeedFigures | None = self.cache.get("speed")
        return value

    def feed(self) -> RemovalIndex | None:
        value: RemovalIndex | None = self.cache.get("feed")
        return value

    def terms(self, kind: str, min_posts: int, **filters: Any) -> TermTable | None:
        """The term table; ``filters``: ``test``, ``alpha``, ``exclude_outcomes`` (as the CLI)."""
        key = tuple(sorted((k, str(v)) for k, v in filters.items()))
        value: TermTable | None = self.cache.derived(
            ("terms", kind, min_posts, *key),
            "term_index",
            # One row per text (w:六四 and c2:六四 merged), as the CLI's --merge-views.
            lambda index: term_table(
                index, kind=kind, min_posts=min_posts, merge_views=True, **filters
            ),
        )
        return value

    def gaps(self) -> list[CoverageGap]:
        """The study's coverage gaps (empty while not computed yet)."""
        value: list[CoverageGap] | None = self.cache.get("gaps")
        return value or []

    def shown_gaps(self) -> list[CoverageGap]:
        """The gaps as a page may show them: a watched account by its pseudonym in public mode
        (a gap's target is the spec, which holds the account's raw id)."""
        targets: list[WatchedTarget] = self.cache.get("targets") or []
        labels = {t.spec: self.target_label(t) for t in targets}
        return [replace(g, target=labels.get(g.target, g.target)) for g in self.gaps()]

    def gap_index(self) -> GapIndex | None:
        """Which removal intervals span a coverage gap (None while the gaps are computed)."""
        value: GapIndex | None = self.cache.derived(("gap_index",), "gaps", self.study.gap_index)
        return value

    def methods(self) -> list[str] | None:
        value: list[str] | None = self.cache.get("methods")
        return value

    def activity(self) -> Activity:
        return activity(self.study.engine)


async def get_dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]


def refuse_in_public(message: str) -> Callable[[Dashboard], Awaitable[None]]:
    """A dependency: in public mode, answer 403 with ``message`` (plain text)."""

    async def dependency(d: DashboardDep) -> None:
        if d.public:
            raise Refused(Response(message, status_code=403, media_type="text/plain"))

    return dependency
