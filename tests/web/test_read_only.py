"""Public mode never changes the study, and a raw response's id is a plain decimal or a 404
(issue 21 items 8 and 10)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from memoryhole.store.schema import metadata
from memoryhole.study import Study
from memoryhole.web.app import ServeOptions, create_app
from memoryhole.web.routes import ROUTERS

TOKEN = "test-token-0123456789"
GOOD = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
PAYLOADS = {
    "/api/watch": json.dumps({"targets": ["weibo:user/7654321"]}),
    "/api/takedown": json.dumps({"author": "2000001", "platform": "weibo"}),
}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
#: The analysis layer's tokenisation cache (derived data, "safe to delete": store/schema.py),
#: which the terms page fills on first use in every mode.
DERIVED_TABLES = {"post_terms", "post_term_ids", "term_vocab"}
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:fastapi.testclient")


def _client(study: Study, public: bool) -> TestClient:
    options = ServeOptions(public=public, token=TOKEN, background=False, check_host=False)
    return TestClient(create_app(study, options))


def fingerprint(study: Study) -> dict[str, Any]:
    """Every row of every table but the derived caches, and every file of the study folder
    (blobs, keys, config)."""
    with study.engine.connect() as connection:
        rows = {
            table.name: sorted(map(repr, connection.execute(select(table))))
            for table in metadata.sorted_tables
            if table.name not in DERIVED_TABLES
        }
    files = sorted(
        (str(path.relative_to(study.path)), path.stat().st_size)
        for path in study.path.rglob("*")
        if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal"))
    )
    return {"rows": rows, "files": files}


def example_path(route: APIRoute, post: tuple[str, str]) -> str:
    """The route's path with its parameters filled in (a real post, a real observation)."""
    platform, post_id = post
    values = {"platform": platform, "post_id": post_id, "observation_id": "1", "name": "terms"}
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: values.get(m.group(1), "x"), route.path)


def test_public_mode_refuses_every_state_change_whatever_the_token(study_copy: Study) -> None:
    before = fingerprint(study_copy)
    with _client(study_copy, public=True) as public:
        routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
        changing = [r for r in routes if r.methods - READ_METHODS]
        assert {r.path for r in changing} >= set(PAYLOADS)
        for route in changing:
            for headers in ({"content-type": "application/json"}, GOOD):
                for method in sorted(route.methods - READ_METHODS):
                    answer = public.request(
                        method, route.path, content=PAYLOADS.get(route.path, "{}"), headers=headers
                    )
                    assert answer.status_code == 403, (method, route.path, answer.text)
                    assert "read-only" in answer.json()["error"]
        # Any other method, on any path (a route added later included), is refused the same way.
        for path in ("/", "/removals", "/api/watch", "/api/takedown", "/post/weibo/1", "/nope"):
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                answer = public.request(method, path, content=PAYLOADS["/api/watch"], headers=GOOD)
                assert answer.status_code == 403, (method, path, answer.status_code)
                assert "read-only" in answer.json()["error"], (method, path)
        # Building a bundle may sign a checkpoint: a GET that changes the study, refused too.
        post = ("weibo", "4900000000000000")
        answer = public.get(f"/bundle/weibo/{post[1]}", headers=GOOD)
        assert answer.status_code == 403 and "not served in public mode" in answer.text
        # And no page that public mode serves changes anything either.
        for route in routes:
            if "GET" in route.methods:
                assert public.get(example_path(route, post)).status_code < 500, route.path
    assert fingerprint(study_copy) == before
    with _client(study_copy, public=False) as local:  # the same requests do work locally
        assert local.post("/api/watch", content=PAYLOADS["/api/watch"], headers=GOOD).json() == {
            "added": ["weibo:user/7654321"]
        }
    assert fingerprint(study_copy) != before


def served_raw_id(client: TestClient) -> str:
    """The id of a raw response that a post page links (and that is served)."""
    post = re.search(r'href="(/post/[^"]+)"', client.get("/removals").text)
    assert post is not None
    raw = re.search(r'href="/raw/(\d+)"', client.get(post.group(1)).text)
    assert raw is not None and len(raw.group(1)) > 1
    return raw.group(1)


def digits(n: str, zero: str) -> str:
    return quote("".join(chr(ord(zero) + int(c)) for c in n))


#: Ways to write an id that are not its plain decimal, most of them naming a served response.
MALFORMED = {
    "zero": lambda n: "0",
    "negative": lambda n: f"-{n}",
    "plus sign": lambda n: f"+{n}",
    "leading zero": lambda n: f"0{n}",
    "decimal point": lambda n: f"{n}.0",
    "exponent": lambda n: f"{n}e0",
    "hexadecimal": lambda n: hex(int(n)),
    "underscore": lambda n: f"{n[0]}_{n[1:]}",
    "leading space": lambda n: f"%20{n}",
    "trailing space": lambda n: f"{n}%20",
    "full-width digits": lambda n: digits(n, "０"),
    "Arabic-Indic digits": lambda n: digits(n, "٠"),
    "letters": lambda n: "abc",
    "markup": lambda n: "%3Cscript%3E",
    "20 digits": lambda n: "99999999999999999999",
    "2**63": lambda n: str(2**63),
    "2**64": lambda n: str(2**64),
    "400 digits": lambda n: "9" * 400,
}


@pytest.mark.parametrize("way", MALFORMED)
def test_a_malformed_or_out_of_range_raw_id_is_not_found(study: Study, way: str) -> None:
    with _client(study, public=False) as local:
        served = served_raw_id(local)
        assert local.get(f"/raw/{served}").status_code == 200
        answer = local.get(f"/raw/{MALFORMED[way](served)}")
    assert answer.status_code == 404, answer.text
    assert answer.text == "not found"
    assert answer.headers["content-type"].startswith("text/plain")
    with _client(study, public=True) as public:
        assert public.get(f"/raw/{MALFORMED[way](served)}").status_code == 403


def test_a_raw_id_the_pages_link_is_served_as_sandboxed_text(study: Study) -> None:
    with _client(study, public=False) as local:
        answer = local.get(f"/raw/{served_raw_id(local)}")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
