"""Authors' timelines as a wide view: which known posts a timeline page covers, which are missing.

A timeline lists an author's visible posts in platform order (publication time, then id), a
page at a time, starting after a cursor (``since_id``). A page that comes back short covers
every post after the cursor up to now; a full page covers them up to the last post it lists.
A known post that was visible, inside the covered range and not listed, is *missing*: it is
then confirmed by a single-post request, which is what gives a removal and its reason.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from memoryhole.model import Discovery


def order_key(published_at: float, post_id: str) -> tuple[float, int, str]:
    """Platform order: by publication time, then by id (numeric ids compared as numbers)."""
    return (published_at, len(post_id), post_id)


@dataclass(slots=True)
class TrackedPost:
    pk: int
    post_id: str
    published_at: float
    live: bool = True  # not seen removed

    @property
    def key(self) -> tuple[float, int, str]:
        return order_key(self.published_at, self.post_id)


@dataclass(slots=True)
class Author:
    author_id: str
    posts: list[TrackedPost] = field(default_factory=list)
    keys: list[tuple[float, int, str]] = field(default_factory=list)
    target_pk: int | None = None
    poll_at: float | None = None  # when its timeline poll is scheduled, as far as we know
    last_poll: float | None = None
    suspended: bool = False
    page_cursor: str | None = None  # where the next page of an unfinished round starts
    round_started: float | None = None

    def add(self, post: TrackedPost) -> None:
        key = post.key
        index = bisect.bisect_right(self.keys, key)
        self.keys.insert(index, key)
        self.posts.insert(index, post)

    def live_since(self, oldest: float) -> list[TrackedPost]:
        """Posts not seen removed and published at or after ``oldest``, in platform order."""
        start = bisect.bisect_left(self.keys, (oldest, 0, ""))
        return [post for post in self.posts[start:] if post.live]

    def cursor_before(self, post: TrackedPost) -> str | None:
        """The id of the known post just before ``post``: a page from there starts at it."""
        index = bisect.bisect_left(self.keys, post.key)
        return self.posts[index - 1].post_id if index > 0 else None

    def missing(self, cursor: str | None, discovery: Discovery) -> list[TrackedPost]:
        """Known live posts inside the range the listing covered that it did not list."""
        listed = {seen.post_id for seen in discovery.posts}
        if discovery.newest_first:
            return self._missing_newest_first(
                cursor, listed, empty=not discovery.posts, last=discovery.last_page
            )
        start = 0
        if cursor is not None:
            for index, post in enumerate(self.posts):
                if post.post_id == cursor:
                    start = index + 1
                    break
            else:
                return []  # the cursor is not one of ours: the range is unknown
        end = len(self.posts)
        if discovery.more and discovery.posts:
            last = max(order_key(s.published_at, s.post_id) for s in discovery.posts)
            end = bisect.bisect_right(self.keys, last)
        return [p for p in self.posts[start:end] if p.live and p.post_id not in listed]

    def _missing_newest_first(
        self, cursor: str | None, listed: set[str], *, empty: bool, last: bool
    ) -> list[TrackedPost]:
        """A newest-first page (Weibo's timelines) covers its listed posts' span; its first
        page (asked with no cursor, or a post's id) also everything newer, and its last page
        (no older page) everything older. Positions are our own posts' (a listing's relative
        times are too coarse to order by)."""
        first_page = cursor is None or any(post.post_id == cursor for post in self.posts)
        positions = [i for i, post in enumerate(self.posts) if post.post_id in listed]
        if not positions:
            if empty and first_page and last:  # the account shows no post at all
                return [p for p in self.posts if p.live]
            return []  # none of ours listed: the span it covered is unknown
        start = 0 if last else positions[0]
        end = len(self.posts) if first_page else positions[-1] + 1
        return [p for p in self.posts[start:end] if p.live and p.post_id not in listed]


class AuthorIndex:
    def __init__(self) -> None:
        self.authors: dict[str, Author] = {}
        self.by_target: dict[int, Author] = {}

    def author(self, author_id: str) -> Author:
        found = self.authors.get(author_id)
        if found is None:
            found = self.authors[author_id] = Author(author_id)
        return found

    def bind_target(self, author_id: str, target_pk: int) -> Author:
        author = self.author(author_id)
        author.target_pk = target_pk
        self.by_target[target_pk] = author
        return author

    def with_targets(self, authors: Iterable[str]) -> list[Author]:
        return [a for a in (self.authors.get(x) for x in authors) if a and a.target_pk is not None]
