"""Small hand-made scenarios with known removals, shared by the end-to-end tests."""

from __future__ import annotations

from memoryhole.scenario import ScenarioPost

TEXTS = ["今天天气很好", "这家餐厅的菜很好吃", "刚看完一部电影", "周末去爬山了", "新买的手机不错"]


def known_removals(start: float, posts: int = 48) -> list[ScenarioPost]:
    """Posts every 75 s; every 3rd censored, every 7th deleted by its author, author 3 suspended.

    Every removal comes at least 5 minutes after publication, so a collector polling the feed
    every minute sees every post before it disappears. Post 10 is edited once.
    """
    result = []
    for i in range(posts):
        published = start + 75.0 * i
        author = str(1_000_000 + i % 4)
        removal: str | None = None
        removed_at: float | None = None
        if i % 3 == 0:
            removal, removed_at = "censored", published + 300.0 + 37.0 * (i % 11) * 5
        elif i % 7 == 0:
            removal, removed_at = "author_deleted", published + 420.0 + 60.0 * (i % 5)
        edits = ((published + 200.0, TEXTS[i % 5] + "（已编辑）"),) if i == 10 else ()
        result.append(
            ScenarioPost(
                post_id=str(4_900_000_000_000_000 + i),
                author_id=author,
                published_at=published,
                text=f"{TEXTS[i % 5]} #{i}",
                removed_at=removed_at,
                removal=removal,
                edits=edits,
            )
        )
    # Author 1000003's account is suspended 5 minutes after its last post: all of its posts
    # still visible vanish then (a suspended account publishes nothing, so none come later).
    last_post = max(p.published_at for p in result if p.author_id == "1000003")
    suspended = next(p for p in result if p.author_id == "1000003" and p.removal is None)
    index = result.index(suspended)
    result[index] = ScenarioPost(
        suspended.post_id,
        suspended.author_id,
        suspended.published_at,
        suspended.text,
        removed_at=last_post + 300.0,
        removal="account_suspended",
    )
    return result
