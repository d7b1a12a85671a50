"""Which known posts a timeline page covers, and so which are missing from it: newest-first
pages (Weibo's timelines) cover their own span, everything newer on a first page, everything
older on a last page; never a post the page did not reach."""

from __future__ import annotations

from memoryhole.model import Discovery, SeenPost
from memoryhole.schedule.timelines import Author, TrackedPost


def author(*ids: int) -> Author:
    found = Author("7001")
    for number in ids:
        found.add(TrackedPost(number, str(number), float(number)))
    return found


def page(*ids: int, last: bool = False) -> Discovery:
    posts = tuple(SeenPost(str(n), "7001", float(n), "") for n in ids)
    return Discovery(posts, None, newest_first=True, last_page=last)


def missing(found: Author, cursor: str | None, discovery: Discovery) -> list[int]:
    return [post.pk for post in found.missing(cursor, discovery)]


def test_a_first_page_covers_from_its_oldest_post_up() -> None:
    known = author(1, 2, 3, 4, 5, 6)
    assert missing(known, None, page(6, 4, 3)) == [5]  # 1 and 2 lie below the page
    assert missing(known, "2", page(6, 4, 3)) == [5]  # asked from a known post: a first page


def test_a_last_page_covers_everything_below_it() -> None:
    known = author(1, 2, 3, 4, 5, 6)
    assert missing(known, None, page(6, 4, 3, last=True)) == [1, 2, 5]


def test_an_older_page_covers_only_its_own_span() -> None:
    known = author(1, 2, 3, 4, 5, 6)
    assert missing(known, "6::p2:1", page(4, 2)) == [3]  # not 5 or 6 above it, nor 1 below


def test_an_empty_page_says_something_only_when_it_is_the_whole_timeline() -> None:
    known = author(1, 2)
    assert missing(known, None, page(last=True)) == [1, 2]  # the account shows no post at all
    assert missing(known, None, page()) == []  # more pages: what it covered is unknown
    known.posts[0].live = False
    assert missing(known, None, page(last=True)) == [2]  # a post seen removed is not missing
