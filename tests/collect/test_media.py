"""``[collector] media = "download"``: each media reference of a post fetched once, on the
platform's budget, content-addressed in the blob store within the cap ("too large" beyond it),
logged as a ``media`` leaf of the post; a failed media fetch never changes a post's status.

In process on a virtual clock against the simulator (which serves ``/media/…``), plus the
streaming cap of the HTTP transport on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from sqlalchemy import select

from memoryhole.collect.media import MAX_ATTEMPTS, MediaFetcher
from memoryhole.collect.transport import AiohttpTransport, BodyTooLarge, RawResponse
from memoryhole.config import update_config
from memoryhole.errors import TransportError
from memoryhole.evidence.bundle import build_bundle
from memoryhole.evidence.verify import verify_bundle, verify_study
from memoryhole.model import Request
from memoryhole.platforms._shared import media_detail, media_refs
from memoryhole.scenario import ScenarioPost
from memoryhole.sim import inprocess
from memoryhole.sim.faults import CAPTCHA_PAGE
from memoryhole.sim.replay import replay
from memoryhole.sim.shapes import media_of
from memoryhole.sim.shapes.media import media_bytes
from memoryhole.store.queries import iter_verdicts
from memoryhole.store.schema import observations, posts
from memoryhole.study import Study
from tests.scenarios import known_removals

T0 = 1_700_000_000.0
CAP = 500_000  # images (20-80 KB) fit, videos (1.5-4.5 MB) do not


def scenario() -> list[ScenarioPost]:
    return known_removals(T0, posts=120)


def make_study(path: Path, media: str, **collector: object) -> Study:
    study = Study.init(path)
    update_config(study.config_path, ("collector",), "media", media)
    update_config(study.config_path, ("collector",), "media_max_bytes", CAP)
    # The age schedule, whatever the default: which posts are checked while visible is then fixed.
    update_config(study.config_path, ("collector",), "scheduler", "age")
    for key, value in collector.items():
        update_config(study.config_path, ("collector",), key, value)
    study.close()
    return Study.open(path)


def rows(study: Study, kind: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(observations, posts.c.post_id.label("the_post_id"))
        .outerjoin(posts, posts.c.id == observations.c.post_pk)
        .order_by(observations.c.id)
    )
    if kind is not None:
        query = query.where(observations.c.kind == kind)
    with study.engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def check_log(study: Study) -> list[tuple[Any, ...]]:
    """What the post checks saw and when: media fetches must leave it exactly as it was."""
    fields = ("the_post_id", "seq", "status", "sent_at", "observed_at", "http_status", "code")
    return [tuple(row[f] for f in fields) for row in rows(study, "check")]


def verdicts(study: Study) -> list[dict[str, Any]]:
    return sorted(iter_verdicts(study.engine, raw_author_ids=True), key=lambda v: v["post_id"])


def test_weibo_keeps_its_pictures_and_video_as_references() -> None:
    from memoryhole.model import Capture, PostRef, Status
    from memoryhole.platforms.weibo import WeiboPlatform

    adapter = WeiboPlatform("http://127.0.0.1:9")
    post = PostRef("weibo", "4900000000000002", "1234567")
    body = (Path(__file__).parents[1] / "data" / "weibo_status_with_media.json").read_bytes()
    headers = (("Content-Type", "application/json"),)
    capture = Capture(adapter.check_request(post), 200, headers, body, 100.0, 100.0)
    observation = adapter.parse_check(post, capture)
    assert observation.status is Status.LIVE
    assert media_refs(observation.detail) == [
        ("image", "https://wx1.sinaimg.example/large/a1b2c3.jpg"),  # the large version
        ("image", "https://wx2.sinaimg.example/orj360/d4e5f6.jpg"),
        ("video", "https://f.video.example/hd/777.mp4"),
    ]


def test_media_refs_reads_back_what_media_detail_wrote() -> None:
    refs = [("image", f"https://cdn.example/{i}.jpg") for i in range(10)]
    detail = f"visible; {media_detail(refs)}; edited at 3"
    assert media_refs(detail) == refs[:8]  # at most MAX_MEDIA are named
    assert media_refs("visible") == []
    assert media_refs(f"visible; {media_detail([('video', 'https://v.example/a.mp4')])}") == [
        ("video", "https://v.example/a.mp4")
    ]


@pytest.mark.parametrize("platform", ["weibo", "json", "reddit", "mastodon", "rss"])
def test_each_media_file_is_fetched_once_stored_within_the_cap(
    tmp_path: Path, platform: str
) -> None:
    posts_ = scenario()
    refs_study = make_study(tmp_path / "refs", "refs")
    replay(refs_study, posts_, until=T0 + 4 * 3600, platform=platform)
    study = make_study(tmp_path / "download", "download")
    replay(study, posts_, until=T0 + 4 * 3600, platform=platform)

    media = rows(study, "media")
    expected = {
        (post.post_id, urlsplit(url).path): kind for post in posts_ for kind, url in media_of(post)
    }
    # RSS items are known by their URL (/posts/{id}); the others by id.
    seen = Counter(
        (str(r["the_post_id"]).rsplit("/", 1)[-1], urlsplit(r["url"]).path) for r in media
    )
    assert len(expected) >= 20
    assert set(seen) <= set(expected)
    assert all(count == 1 for count in seen.values()), "each file fetched once"
    # Every file of a post that was still visible at its first check was fetched.
    assert len(seen) >= 0.6 * len(expected)
    stored = too_large = 0
    for row in media:
        post_id = str(row["the_post_id"]).rsplit("/", 1)[-1]
        extension = row["url"].rsplit(".", 1)[-1]
        truth = media_bytes(post_id, extension)
        assert row["seq"] is None and row["target_pk"] is None
        if row["code"] == "media_stored":
            stored += 1
            assert extension == "jpg" and len(truth) <= CAP
            assert row["status"] == "live"
            assert row["body_sha256"] == hashlib.sha256(truth).hexdigest()
            assert row["body_size"] == len(truth)
            assert study.blobs.get(row["body_sha256"]) == truth
            assert f"{platform} post" in row["detail"] and "stored" in row["detail"]
        else:
            too_large += 1
            assert row["code"] == "media_too_large", row
            assert extension == "mp4" and len(truth) > CAP
            assert row["body_size"] == 0 and row["status"] == "live"
            assert not study.blobs.exists(hashlib.sha256(truth).hexdigest())
            assert f"more than {CAP:,} bytes" in row["detail"]
    assert stored >= 10 and too_large >= 2
    # The media requests spent the budget, but the posts' checks and verdicts are as without.
    assert check_log(study) == check_log(refs_study)
    assert verdicts(study) == verdicts(refs_study)
    report = verify_study(study)
    assert report.success, report.failures


def test_a_bundle_carries_the_media_and_verifies(tmp_path: Path) -> None:
    study = make_study(tmp_path / "study", "download")
    replay(study, scenario(), until=T0 + 3 * 3600, platform="json")
    row = next(r for r in rows(study, "media") if r["code"] == "media_stored")
    out = tmp_path / "post.zip"
    manifest = build_bundle(study, str(row["the_post_id"]), out)
    entries = [e for e in manifest["observations"] if '"kind":"media"' in e["leaf"]]
    assert len(entries) == 1
    assert entries[0]["response"] == f"responses/{row['body_sha256']}"
    report = verify_bundle(out)
    assert report.success, report.failures


class FailingMedia:
    """The simulator, but every media request fails in turn: no answer, 500, 429, a captcha
    page, 404. Everything else passes through untouched."""

    FAILURES = ("timeout", 500, 429, "captcha", 404)

    def __init__(self, inner: inprocess.InProcessTransport) -> None:
        self.inner = inner
        self.media_requests: Counter[str] = Counter()

    async def send(self, request: Request) -> RawResponse:
        if not urlsplit(request.url).path.startswith("/media/"):
            return await self.inner.send(request)
        failure = self.FAILURES[sum(self.media_requests.values()) % len(self.FAILURES)]
        self.media_requests[request.url] += 1
        if failure == "timeout":
            raise TransportError("timeout")
        if failure == "captcha":
            return RawResponse(200, (("content-type", "text/html"),), CAPTCHA_PAGE)
        headers = (("content-type", "text/plain"), ("retry-after", "5"))
        return RawResponse(int(failure), headers, b"error")

    async def close(self) -> None:
        return None


def test_a_failed_media_fetch_never_changes_a_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts_ = scenario()
    refs_study = make_study(tmp_path / "refs", "refs")
    replay(refs_study, posts_, until=T0 + 4 * 3600, platform="json")

    made: list[FailingMedia] = []
    real = inprocess.InProcessTransport

    def failing(*args: Any, **kwargs: Any) -> FailingMedia:
        made.append(FailingMedia(real(*args, **kwargs)))
        return made[-1]

    monkeypatch.setattr("memoryhole.sim.replay.InProcessTransport", failing)
    study = make_study(tmp_path / "download", "download")
    replay(study, posts_, until=T0 + 4 * 3600, platform="json")
    (transport,) = made

    media = rows(study, "media")
    assert len(media) >= 30
    assert {r["status"] for r in media} == {"unreachable"}
    assert {r["code"] for r in media} >= {
        "media_failed", "media_http_500", "media_http_429", "media_not_media", "media_http_404"
    }  # fmt: skip
    # Transient failures are tried again at later checks, at most MAX_ATTEMPTS times a file.
    assert max(transport.media_requests.values()) <= MAX_ATTEMPTS
    assert any(count > 1 for count in transport.media_requests.values())
    # Not one check, verdict or removal differs from the study that never fetched media.
    assert check_log(study) == check_log(refs_study)
    assert verdicts(study) == verdicts(refs_study)
    report = verify_study(study)
    assert report.success, report.failures


def test_media_requests_count_against_the_budget(tmp_path: Path) -> None:
    posts_ = scenario()
    study = make_study(tmp_path / "study", "download", budget_per_second=0.5)
    replay(study, posts_, until=T0 + 2 * 3600, platform="json", budget_per_second=0.5)
    log = rows(study)
    media = [r for r in log if r["kind"] == "media"]
    assert media
    # A post's facts leaf is its listing's answer, not a request of its own.
    times = sorted(r["sent_at"] for r in log if r["kind"] != "post")
    # The bucket holds one token at 0.5/s: any two requests, media included, are 2 s apart.
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 2.0 - 1e-6
    assert len(media) >= 10


def test_the_scheduler_plans_room_for_media_downloads(tmp_path: Path) -> None:
    """Media downloads share the platform's budget: the scheduler is told of each, so its
    plan counts them with the feed polls as requests it did not plan."""
    from memoryhole.collect.runner import study_policy
    from memoryhole.schedule.by_platform import PlatformSchedulers

    study = make_study(tmp_path / "study", "download", budget_per_second=0.5, scheduler="budget")
    policy = study_policy(study)
    assert isinstance(policy, PlatformSchedulers)
    replay(study, scenario(), until=T0 + 2 * 3600, platform="json", policy=policy)
    log = rows(study)
    media = [r for r in log if r["kind"] == "media"]
    assert len(media) >= 10
    # A listing's sightings are logged at its time and URL: one request each.
    sent = {(r["sent_at"], r["url"]) for r in log}
    assert policy.requests == len(sent)


def test_a_restart_fetches_nothing_twice(tmp_path: Path) -> None:
    posts_ = scenario()
    study = make_study(tmp_path / "study", "download")
    replay(study, posts_, until=T0 + 2 * 3600, platform="json")
    first = len(rows(study, "media"))
    study.close()
    study = Study.open(tmp_path / "study")
    replay(study, posts_, until=T0 + 5 * 3600, platform="json")
    media = rows(study, "media")
    assert first > 0 and len(media) > first  # later posts' media were fetched after the restart
    keys = Counter((r["post_pk"], r["url"]) for r in media)
    assert max(keys.values()) == 1


def test_only_http_and_no_private_addresses_unless_the_platform_is_there() -> None:
    public = MediaFetcher(CAP, {"json": "https://api.example"})
    detail = media_detail(
        [
            ("image", "https://cdn.example/a.jpg"),
            ("image", "http://127.0.0.1:8000/admin"),
            ("image", "http://10.0.0.7/x.jpg"),
            ("image", "http://169.254.169.254/latest/meta-data"),
            ("image", "file:///etc/passwd"),
        ]
    )
    assert public.wanted(1, "json", detail) == [("image", "https://cdn.example/a.jpg")]
    assert public.refused == 4
    local = MediaFetcher(CAP, {"json": "http://127.0.0.1:8000"})  # the simulator
    assert ("image", "http://127.0.0.1:8000/admin") in local.wanted(1, "json", detail)


# -- the HTTP transport stops reading at the cap -----------------------------------------------


def test_http_transport_stops_at_the_cap() -> None:
    big = b"x" * 3_000_000
    written: dict[str, int] = {"chunked": 0}

    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=big, content_type="video/mp4")

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for start in range(0, len(big), 65536):
                await response.write(big[start : start + 65536])
                written["chunked"] += 65536
                await asyncio.sleep(0.001)
        except (ConnectionResetError, OSError):
            pass
        return response

    async def small(request: web.Request) -> web.Response:
        return web.Response(body=b"\xff\xd8small\xff\xd9", content_type="image/jpeg")

    async def scenario_() -> None:
        app = web.Application()
        app.router.add_get("/sized.mp4", sized)
        app.router.add_get("/chunked.mp4", chunked)
        app.router.add_get("/small.jpg", small)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        transport = AiohttpTransport(timeout=10)
        base = f"http://127.0.0.1:{port}"
        try:
            with pytest.raises(BodyTooLarge) as sized_error:
                await transport.send_capped(Request("GET", f"{base}/sized.mp4"), 100_000)
            assert sized_error.value.declared == len(big) and sized_error.value.read == 0
            with pytest.raises(BodyTooLarge) as chunked_error:
                await transport.send_capped(Request("GET", f"{base}/chunked.mp4"), 100_000)
            assert chunked_error.value.declared is None
            assert 100_000 < chunked_error.value.read <= 100_000 + 65536
            raw = await transport.send_capped(Request("GET", f"{base}/small.jpg"), 100_000)
            assert raw.status == 200 and raw.body == b"\xff\xd8small\xff\xd9"
        finally:
            await transport.close()
            await asyncio.sleep(0.2)
            await runner.cleanup()

    asyncio.run(scenario_())
    assert written["chunked"] < len(big)  # the server stopped sending: the reader hung up


@pytest.mark.slow
def test_media_over_http_from_sim_serve(tmp_path: Path) -> None:
    """``sim serve --platform reddit`` links media at its own address; ``memoryhole run`` with
    downloads on fetches them over loopback, video cut at the cap by the streaming transport."""
    import subprocess
    import sys
    import time

    from memoryhole.scenario import write_scenario
    from memoryhole.sim.process import free_port

    posts_ = known_removals(time.time(), posts=120)
    path = tmp_path / "scenario.jsonl"
    write_scenario(posts_, path)
    study = make_study(tmp_path / "study", "download")
    study.close()
    port = free_port()
    command = [sys.executable, "-m", "memoryhole"]
    server = subprocess.Popen(
        [
            *(*command, "sim", "serve", "--scenario", str(path), "--port", str(port)),
            *("--platform", "reddit", "--speed", "300"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        folder = str(tmp_path / "study")
        subprocess.run(
            [*command, "watch", "reddit:all", "--base-url", base, "--study", folder],
            check=True,
            timeout=60,
        )
        subprocess.run(
            [*command, "run", "--for", "12s", "--quiet", "--study", folder], check=True, timeout=90
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    study = Study.open(tmp_path / "study")
    media = rows(study, "media")
    assert len(media) >= 5
    assert {urlsplit(r["url"]).netloc for r in media} == {f"127.0.0.1:{port}"}
    codes = Counter(r["code"] for r in media)
    assert codes["media_stored"] >= 3
    for row in media:
        extension = row["url"].rsplit(".", 1)[-1]
        truth = media_bytes(str(row["the_post_id"]), extension)
        if row["code"] == "media_stored":
            assert study.blobs.get(row["body_sha256"]) == truth
        elif row["code"] == "media_too_large":
            assert extension == "mp4" and row["body_size"] == 0
    report = verify_study(study)
    assert report.success, report.failures


def test_the_post_page_lists_media_downloads_apart_from_checks(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from memoryhole.web.app import ServeOptions, create_app, post_path

    study = make_study(tmp_path / "study", "download")
    replay(study, scenario(), until=T0 + 3 * 3600, platform="json")
    row = next(r for r in rows(study, "media") if r["code"] == "media_stored")
    options = ServeOptions(public=False, token="t" * 24, background=False, check_host=False)
    with TestClient(create_app(study, options)) as client:
        page = client.get(post_path("json", str(row["the_post_id"])))
    assert page.status_code == 200
    assert "<td>media</td>" in page.text and "media_stored" in page.text
    assert "check None" not in page.text and "<td>None</td>" not in page.text
