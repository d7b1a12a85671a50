"""Every page of the dashboard through FastAPI's TestClient, on the XSS-payload study."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from memoryhole.store.schema import targets
from memoryhole.study import Study
from memoryhole.web.app import CSP, ServeOptions, create_app, post_path
from tests.web.conftest import PAYLOAD_AUTHOR, PAYLOAD_POST_IDS, TAKEN_DOWN_TEXT, XssStudy

TOKEN = "test-token-0123456789"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:fastapi.testclient")
PAGES = [
    "/",
    "/fragments/live",
    "/removals",
    "/removals?kind=censored",
    "/removals?platform=weibo&kind=author_deleted&since=2026-01-01&until=2026-01-02",
    "/removals?term=c2:%E5%85%AD%E5%9B%9B",
    "/removals?term=script&page=1",
    "/terms",
    "/terms?kind=author_deleted&min_posts=2&sort=posts&order=desc",
    "/terms?q=%E5%85%AD&min_posts=1&significant=1",
    "/speed",
    "/accounts",
    "/accounts?suspended=1",
    "/accounts?q=a_",
    "/platforms",
]
NAV = ["/", "/removals", "/terms", "/speed", "/accounts", "/platforms", "/feed.atom"]
# Markup that must never reach a page unescaped (the corpus's dangerous fragments).
RAW_MARKUP = re.compile(
    r"<(script|img|svg|iframe|body|details|input|video|math|object|embed|form|meta|base|link|"
    r"marquee|select|noscript|template|style)[\s>/][^>]*(__xss|javascript:|onerror|onload)",
    re.IGNORECASE,
)


def _client(study: Study, public: bool) -> TestClient:
    options = ServeOptions(public=public, token=TOKEN, background=False, check_host=False)
    return TestClient(create_app(study, options))


@pytest.fixture
def local(study: Study) -> Iterator[TestClient]:
    with _client(study, public=False) as client:
        yield client


@pytest.fixture
def public(study: Study) -> Iterator[TestClient]:
    with _client(study, public=True) as client:
        yield client


def post_urls(client: TestClient) -> list[str]:
    """Every post linked from the removals feed, all pages, plus the visible posts' pages."""
    urls: set[str] = set()
    page = 1
    while True:
        html = client.get(f"/removals?page={page}").text
        found = re.findall(r'href="(/post/[^"]+)"', html)
        urls.update(found)
        if 'rel="next"' not in html:
            return sorted(urls)
        page += 1


class _Tags(HTMLParser):
    """Every start tag and attribute of a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "link",
    "script",
    "body",
    "header",
    "nav",
    "a",
    "span",
    "main",
    "h1",
    "h2",
    "section",
    "div",
    "p",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "time",
    "figure",
    "form",
    "label",
    "select",
    "option",
    "input",
    "button",
    "blockquote",
    "svg",
    "line",
    "rect",
    "circle",
    "text",
    "ins",
    "del",
    "footer",
    "strong",
    "mark",
    "details",
    "summary",
    "fieldset",
    "legend",
}


def assert_safe_html(html: str) -> None:
    """No tag, attribute or script that the server did not write itself."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> {attrs}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name}={value!r} on <{tag}>"
            assert name != "style", f"inline style on <{tag}>"
            assert not name.startswith("hx-on"), f"htmx handler {name} on <{tag}>"
            if name == "href" and attrs.get("id") == "original":  # the post on its platform
                assert value is not None and value.startswith(("http://", "https://")), value
                assert attrs.get("rel") == "nofollow noreferrer", attrs
            elif name in ("href", "src", "action", "formaction", "data-spec"):
                assert value is not None and value.startswith(("/", "#", "http://testserver")), (
                    f"{name}={value!r} on <{tag}>"
                )
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), f"inline script {attrs}"
        if tag == "meta":
            assert "http-equiv" not in attrs, attrs
    assert parser.script_text.strip() == ""
    assert RAW_MARKUP.search(html) is None, RAW_MARKUP.search(html)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_escaped_with_a_strict_policy(local: TestClient, path: str) -> None:
    response = local.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    html = response.text
    assert_safe_html(html)
    if not path.startswith("/fragments"):
        assert '<link rel="alternate" type="application/atom+xml"' in html
        for link in NAV:
            assert f'href="{link}"' in html


def test_payloads_are_shown_as_text(local: TestClient, xss_study: XssStudy) -> None:
    html = "".join(local.get(f"/removals?page={page}").text for page in (1, 2))
    shown = [p for p in xss_study.payloads if str(escape(p)) in html]
    assert len(shown) >= 10, "the feed should show the payload texts, escaped"
    assert "&lt;script&gt;window.__xss(1)&lt;/script&gt;" in html
    escaped_twice = local.get(post_path("weibo", "4900000000000029")).text
    assert "&amp;lt;script&amp;gt;window.__xss(30)" in escaped_twice  # escaped once more


def test_every_post_page_and_its_evidence(local: TestClient) -> None:
    urls = post_urls(local)
    assert len(urls) >= 20
    for url in urls:
        page = local.get(url)
        assert page.status_code == 200, url
        assert_safe_html(page.text)
        assert 'id="all-observations"' in page.text and "<svg" in page.text
        verify = local.get(url.replace("/post/", "/verify/", 1))
        assert verify.status_code == 200
        assert "Verified" in verify.text and "✗" not in verify.text, verify.text


def test_payload_post_ids_and_authors_route_and_escape(local: TestClient) -> None:
    for post_id in PAYLOAD_POST_IDS:
        response = local.get(post_path("weibo", post_id))
        assert response.status_code == 200
        assert post_id not in response.text
        assert str(escape(post_id)) in response.text
    accounts = local.get("/accounts?q=svg").text
    assert PAYLOAD_AUTHOR not in accounts
    assert "&lt;svg onload=window.__xss(92)&gt;" in accounts


def test_edit_shows_a_diff(local: TestClient) -> None:
    edited = [u for u in post_urls(local)]  # removed posts; edits are on visible ones
    pages = [local.get(u).text for u in edited]
    html = local.get(post_path("weibo", "4900000000000002")).text + "".join(pages)
    assert "<ins>" in html
    assert "&lt;b onmouseover=window.__xss(94)&gt;编辑&lt;/b&gt;" in html


def test_removal_interval_is_shown(local: TestClient) -> None:
    url = post_urls(local)[0]
    html = local.get(url).text
    assert "Removed between" in html and "a window of" in html


def test_atom_feed_is_well_formed_filterable_and_escaped(local: TestClient) -> None:
    response = local.get("/feed.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # control characters were dropped
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) >= 20
    assert all(e.find("a:content", ns).get("type") == "text" for e in entries)  # type: ignore[union-attr]
    assert b"<script>" not in response.content
    titles = " ".join(e.findtext("a:title", "", ns) for e in entries)
    assert "<script>window.__xss(1)</script>" in titles  # as text, escaped in the XML
    censored = ET.fromstring(local.get("/feed.atom?kind=censored").content)
    kinds = {c.get("term") for c in censored.iter("{http://www.w3.org/2005/Atom}category")}
    assert kinds == {"censored"}
    links = [e.find("a:link", ns).get("href") for e in entries]  # type: ignore[union-attr]
    assert all(link and link.startswith("http://testserver/post/weibo/") for link in links)


def test_chart_specs_are_json_vega_lite(local: TestClient) -> None:
    for name in ("removals", "terms", "speed", "platforms"):
        response = local.get(f"/charts/{name}.json")
        assert response.status_code == 200
        spec = response.json()
        assert spec["$schema"].endswith("vega-lite/v6.json")
    assert local.get("/charts/nope.json").status_code == 404


def test_taken_down_author_is_never_shown(local: TestClient, xss_study: XssStudy) -> None:
    everything = "".join(local.get(path).text for path in PAGES)
    everything += local.get("/feed.atom").text
    everything += "".join(local.get(f"/removals?page={p}").text for p in (1, 2, 3))
    assert TAKEN_DOWN_TEXT not in everything and xss_study.taken_down_pseudonym not in everything
    assert local.get(post_path("weibo", "4900000000000905")).status_code == 404
    assert local.get("/verify/weibo/4900000000000905").status_code == 404
    assert local.get("/bundle/weibo/4900000000000905").status_code == 404


def test_local_mode_serves_raw_responses_sandboxed_and_bundles(local: TestClient) -> None:
    url = post_urls(local)[0]
    html = local.get(url).text
    raw = re.search(r'href="(/raw/\d+)"', html)
    assert raw is not None
    response = local.get(raw.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-security-policy"] == "default-src 'none'; sandbox"
    bundle = local.get(url.replace("/post/", "/bundle/", 1))
    assert bundle.status_code == 200
    assert bundle.headers["content-type"] == "application/zip"
    assert bundle.headers["x-memoryhole-verified"] == "yes"
    check = local.get(url.replace("/post/", "/bundle/", 1) + "?check=1")
    assert "The bundle verifies" in check.text


def test_public_mode_shows_pseudonyms_only_and_no_raw_evidence(
    public: TestClient, local: TestClient
) -> None:
    raw_ids = re.findall(r'<span class="muted small">\((\d{7})\)</span>', local.get("/").text)
    assert raw_ids, "local mode shows raw author ids"
    everything = "".join(public.get(path).text for path in PAGES)
    urls = post_urls(public)
    everything += "".join(public.get(url).text for url in urls[:10])
    everything += public.get("/feed.atom").text
    for raw_id in set(raw_ids):
        # As a number of its own: "2000000" inside a chart coordinate "6.200000000000017" is
        # not an author id.
        assert not re.search(rf"(?<![\d.]){raw_id}(?!\d)", everything), raw_id
    assert "/raw/" not in everything and "Download the evidence bundle" not in everything
    assert public.get("/raw/3").status_code == 403
    assert public.get(urls[0].replace("/post/", "/bundle/", 1)).status_code == 403
    verify = public.get(urls[0].replace("/post/", "/verify/", 1))
    assert "Verified" in verify.text
    assert 'class="mode public"' in public.get("/").text


def test_public_mode_pseudonymises_watched_accounts(study_copy: Study) -> None:
    study = study_copy
    from memoryhole.model import Target
    from memoryhole.store.queries import add_targets

    add_targets(study.engine, [Target("weibo", "user", "1234567")], 0.0)
    with _client(study, public=True) as client:
        html = client.get("/").text
        assert "1234567" not in html
        assert f"weibo:user/{study.pseudonym('weibo', '1234567')}" in html
    with _client(study, public=False) as client:
        assert "weibo:user/1234567" in client.get("/").text


def test_state_changes_need_the_token_and_never_happen_in_public_mode(study_copy: Study) -> None:
    local, public = _client(study_copy, public=False), _client(study_copy, public=True)
    body = json.dumps({"targets": ["weibo:user/7654321"]})
    json_type = {"content-type": "application/json"}
    assert local.post("/api/watch", content=body, headers=json_type).status_code == 401
    wrong = {**json_type, "authorization": "Bearer nope"}
    assert local.post("/api/watch", content=body, headers=wrong).status_code == 401
    form = {"authorization": f"Bearer {TOKEN}", "content-type": "application/x-www-form-urlencoded"}
    assert local.post("/api/watch", content=body, headers=form).status_code == 415
    good = {**json_type, "authorization": f"Bearer {TOKEN}"}
    for path, payload in (("/api/watch", body), ("/api/takedown", '{"author": "2000001"}')):
        for headers in (json_type, wrong, good):  # read-only, whatever the token
            refused = public.post(path, content=payload, headers=headers)
            assert refused.status_code == 403 and "read-only" in refused.json()["error"]
    with study_copy.engine.connect() as connection:
        specs = set(connection.execute(select(targets.c.spec)).scalars())
    assert "weibo:user/7654321" not in specs
    response = local.post("/api/watch", content=body, headers=good)
    assert response.status_code == 200 and response.json() == {"added": ["weibo:user/7654321"]}
    assert local.post("/api/watch", content="[]", headers=good).status_code == 400
    assert local.get("/api/watch").status_code == 405


def test_raw_ids_out_of_range_are_not_found(local: TestClient) -> None:
    for observation_id in ("0", "-1", "99999999999999999999", str(2**63)):
        assert local.get(f"/raw/{observation_id}").status_code in (404, 422), observation_id
    assert local.get("/raw/99999999999999999999").status_code == 404


def test_no_token_means_no_state_changes(study: Study) -> None:
    options = ServeOptions(token=None, background=False, check_host=False)
    with TestClient(create_app(study, options)) as client:
        response = client.post(
            "/api/takedown",
            content=json.dumps({"author": "2000001"}),
            headers={"content-type": "application/json", "authorization": "Bearer x"},
        )
        assert response.status_code == 403


def test_takedown_through_the_api_hides_the_author(study_copy: Study) -> None:
    study = study_copy
    with _client(study, public=False) as client:
        before = client.get("/accounts?q=a_").text
        victim = post_urls(client)[0]
        author = re.search(r"(?i)author <code>(a_[0-9a-f]+)</code>", client.get(victim).text)
        assert author is not None and author.group(1) in before
        response = client.post(
            "/api/takedown",
            content=json.dumps({"author": author.group(1), "platform": "weibo"}),
            headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 200, response.text
        assert client.get(victim).status_code == 404
        assert author.group(1) not in client.get("/accounts?q=a_").text


def test_local_mode_refuses_foreign_host_headers(study: Study) -> None:
    options = ServeOptions(background=False)  # loopback hosts only
    with TestClient(create_app(study, options), base_url="http://127.0.0.1:8080") as client:
        assert client.get("/").status_code == 200
        assert client.get("/", headers={"host": "localhost:8080"}).status_code == 200
        assert client.get("/", headers={"host": "evil.example"}).status_code == 400
        assert client.get("/", headers={"host": "127.0.0.1.evil.example:80"}).status_code == 400


def test_unknown_post_is_404(local: TestClient) -> None:
    response = local.get("/post/weibo/" + quote("does not exist <b>", safe=""))
    assert response.status_code == 404
    assert "<b>" not in response.text


def test_healthz_says_when_figures_are_warm(local: TestClient) -> None:
    status = local.get("/healthz").json()
    assert status["ok"] is True and status["public"] is False


def test_the_overview_says_how_many_listing_items_of_a_target_could_not_be_read(
    study_copy: Study,
) -> None:
    from sqlalchemy import update

    from memoryhole.store.schema import targets

    latest = "card 3: post 4900000000000001: created_at '前天' not understood <b>"
    with study_copy.engine.begin() as connection:
        connection.execute(update(targets).values(unreadable=7, last_unreadable=latest))
    with _client(study_copy, public=False) as client:
        page = client.get("/").text
    assert "7 listing items could not be read" in page
    assert str(escape(latest)) in page and latest not in page  # shown, escaped


def test_a_removed_posts_page_opens_with_how_long_after_publication_it_went(
    study: Study, local: TestClient
) -> None:
    from memoryhole.store.schema import posts, verdicts

    with study.engine.connect() as connection:
        row = connection.execute(
            select(posts.c.platform, posts.c.post_id, posts.c.published_at,
                   verdicts.c.last_seen_alive_at, verdicts.c.first_seen_removed_at)
            .join(verdicts, verdicts.c.post_pk == posts.c.id)
            .where(verdicts.c.status == "censored", verdicts.c.last_seen_alive_at.is_not(None))
            .limit(1)
        ).one()  # fmt: skip
    html = local.get(post_path(row.platform, row.post_id)).text
    lead = re.search(r'<p class="lead">(.*?)</p>', html, re.S)
    assert lead is not None, "the page opens with its one line"
    line = re.sub(r"<[^>]+>", "", lead.group(1))
    assert line.startswith("Removed by platform/censor") and "after publication" in line
    alive = time.strftime("%H:%M", time.gmtime(row.last_seen_alive_at))
    gone = time.strftime("%H:%M", time.gmtime(row.first_seen_removed_at))
    assert f"seen live {alive} → gone by {gone}" in line


def test_the_terms_page_has_one_row_per_text_a_min_posts_control_and_says_when_none_is_significant(
    local: TestClient,
) -> None:
    html = local.get("/terms?min_posts=2").text
    assert re.search(r'<input type="number" name="min_posts" value="2"', html)
    terms = re.findall(r'<td lang="zh"><a href="/removals[^"]*"[^>]*>([^<]+)</a></td>', html)
    texts = [t.split(":", 1)[1] if re.match(r"^(w|c\d):", t) else t for t in terms]
    assert terms and len(texts) == len(set(texts)), "w:X and c2:X are one row"
    none = local.get("/terms?min_posts=100000").text
    assert 'id="no-significant-term"' in none and "no term was tested" in none
    spec = local.get("/charts/terms.json?min_posts=100000").json()
    assert "most significant" not in json.dumps(spec, ensure_ascii=False)


def test_a_figure_that_failed_is_said_on_every_page_not_shown_as_empty(
    study_copy: Study,
) -> None:
    with _client(study_copy, public=True) as client:
        dashboard = client.app.state.dashboard  # type: ignore[attr-defined]

        def broken() -> None:
            raise RuntimeError("no such column: fetched_at")

        dashboard.cache.register("targets", "fast", broken)  # the figure of "What is watched"
        page = client.get("/").text
        assert 'id="figure-errors"' in page and "targets" in page
        assert "no such column" not in page  # the reason stays in the log and /healthz
        assert "no such column" in json.dumps(client.get("/healthz").json())


def test_filters_that_cannot_be_read_are_refused_and_a_page_past_the_end_says_so(
    local: TestClient,
) -> None:
    for url in ("/removals?since=garbage", "/feed.atom?until=2024-13-45"):
        answer = local.get(url)
        assert answer.status_code == 400 and "is not a date" in answer.text, url
    first = local.get("/removals").text
    pages = max(int(n) for n in re.findall(r"[?&]page=(\d+)", first) or ["1"])
    past = local.get(f"/removals?page={pages + 5}").text
    assert 'id="past-the-end"' in past and f"page={pages}" in past
