"""The accounts table: every author with posts, suspended first; filter and search."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from memoryhole.analysis.overview import REMOVAL_KINDS, Account
from memoryhole.web.dashboard import PER_PAGE, DashboardDep
from memoryhole.web.downloads import download, refuse, wanted, with_iso

router = APIRouter()


def account_row(account: Account, public: bool) -> dict[str, Any]:
    """An author as downloaded: the raw id only in local mode."""
    row: dict[str, Any] = {
        "author": account.pseudonym,
        "author_raw_id": None if public else account.raw_id,
        "platform": account.platform,
        "suspended": account.suspended,
        "posts": account.posts,
    }
    row.update({kind: account.removed.get(kind, 0) for kind in REMOVAL_KINDS})
    row["first_published_at"] = account.first_published_at
    row["last_published_at"] = account.last_published_at
    row["last_removed_at"] = account.last_removed_at
    return with_iso(row, ("first_published_at", "last_published_at", "last_removed_at"))


@dataclass
class AccountIndex:
    """The accounts table, indexed: suspended positions and search keys precomputed."""

    accounts: list[Account]
    suspended: list[int]
    public_keys: list[str]
    local_keys: list[str]

    @classmethod
    def build(cls, accounts: list[Account]) -> AccountIndex:
        return cls(
            accounts,
            [i for i, a in enumerate(accounts) if a.suspended],
            [a.pseudonym.casefold() for a in accounts],
            [f"{a.pseudonym} {a.raw_id}".casefold() for a in accounts],
        )

    def select(self, suspended: bool, needle: str, public: bool) -> list[int] | range:
        base: list[int] | range = self.suspended if suspended else range(len(self.accounts))
        if not needle:
            return base
        keys = self.public_keys if public else self.local_keys
        return [i for i in base if needle in keys[i]]


@router.get("/accounts", response_class=HTMLResponse)
def accounts(
    request: Request,
    d: DashboardDep,
    suspended: str = "",
    q: str = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: str = "",
) -> Response:
    if (refused := refuse(format)) is not None:
        return refused
    index: AccountIndex | None = d.cache.derived(("accounts",), "accounts", AccountIndex.build)
    if index is None:
        return d.pending(request, "Accounts", "the accounts table")
    positions = index.select(bool(suspended), q.strip().casefold()[:100], d.public)
    if as_file := wanted(format):
        rows = [account_row(index.accounts[i], d.public) for i in positions]
        return download("accounts", as_file, rows)
    pages = max(1, math.ceil(len(positions) / PER_PAGE))
    page_positions = positions[(page - 1) * PER_PAGE : page * PER_PAGE]
    return d.render(
        request,
        "accounts.html",
        title="Accounts",
        rows=[index.accounts[i] for i in page_positions],
        matching=len(positions),
        suspended_total=len(index.suspended),
        total=len(index.accounts),
        page=page,
        pages=pages,
        params={"suspended": suspended, "q": q},
        computed_at=d.cache.computed_at("accounts"),
    )
