"""An item's web page read for what it is: the URL it names as its own, and whether it is a bot
challenge instead of a page at all (sans-IO, used by the RSS adapter).

``read_page`` walks the document's markup once, skipping what is not markup (scripts, styles,
comments, templates), so a word inside an inline script is never taken for the page's
structure: a ``<link rel="canonical">`` written into a script string is not the page's canonical,
and a script that mentions "captcha" does not make the page a challenge. The canonical URL is
looked for in the ``<head>`` wherever it ends (some pages carry megabytes of inline script
before it) and, only when the head names none, in the body (YouTube writes its canonical link
there). The walk is linear in the page's size.

``same_url`` compares URLs as a site does: scheme (http/https), host case, a leading ``www.``,
default ports, a trailing slash, percent-encoding, the fragment and tracking parameters
(``utm_*``, ``fbclid``, a feed's ``?source=rss…``) do not make two URLs different.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit

from memoryhole.model import Capture
from memoryhole.platforms._shared import html_text

#: At most this many headings, forms, frames and media tags are kept from one page.
KEEP = 16

_TOKEN = re.compile(
    rb"<(?:(!--)|(script|style|template|textarea|title|h1)\b|(link|meta|form|iframe|base)\b"
    rb"|(/head)\s*>|(body)\b)",
    re.IGNORECASE,
)
_TAG = re.compile(rb"<[a-zA-Z][a-zA-Z0-9]*((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTRIBUTE = re.compile(
    rb"([^\s=/>\"']+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?", re.DOTALL
)
_CLOSE = {
    name: re.compile(rb"</" + name + rb"\s*>", re.IGNORECASE)
    for name in (b"script", b"style", b"template", b"textarea", b"title", b"h1")
}
_VISIBLE = re.compile(rb"\S")
_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([a-zA-Z0-9_.:-]+)", re.IGNORECASE)

#: Query parameters that only say where a reader came from, never which page it is.
TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
        "ref_src",
    }
)
#: Parameters that are tracking only when their value names a feed (Medium's ``?source=rss-…``).
_FEED_MARKED = frozenset({"source", "src", "ref", "from", "via", "cmp", "feature"})
_FEED_VALUE = re.compile(r"^(?:rss|atom|feed)", re.IGNORECASE)

#: Whole titles of bot challenges and block pages (compared after collapsing spaces, in lower
#: case, with "…" as "..."): Cloudflare's, Sucuri's, DDoS-Guard's, and generic ones.
CHALLENGE_TITLES = frozenset(
    {
        "just a moment...",
        "attention required! | cloudflare",
        "please wait... | cloudflare",
        "one moment, please...",
        "ddos-guard",
        "ddos protection by ddos-guard",
        "sucuri website firewall - access denied",
        "access denied",
        "security check",
        "human verification",
        "verify you are human",
        "are you a robot?",
        "bot verification",
        "captcha",
        "安全验证",
        "验证码",
        "人机验证",
        "访问验证",
    }
)
#: How the main heading of a challenge page begins.
CHALLENGE_HEADINGS = (
    "checking your browser",
    "checking if the site connection is secure",
    "verifying you are human",
    "verify you are human",
    "please verify you are a human",
    "sorry, you have been blocked",
)
#: A form or frame that is a challenge: its id, class, name, action or src says so.
_CHALLENGE_PART = re.compile(
    r"captcha|__cf_chl_|challenge-form|cf-challenge|challenges\.cloudflare\.com|turnstile",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Page:
    """What the markup of a page says about itself."""

    canonical: str | None = None  # resolved against the page's URL (and its <base>)
    canonical_from: str = ""  # 'link rel=canonical' or 'og:url', 'in the head' or 'in the body'
    title: str | None = None
    headings: list[str] = field(default_factory=list)
    forms: list[dict[str, str]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    media: list[tuple[str, str]] = field(default_factory=list)
    empty: bool = False


def read_page(capture: Capture) -> Page:
    body = capture.body
    page = Page(empty=_VISIBLE.search(body) is None)
    charset = _charset(capture)
    base = capture.request.url
    found: dict[str, str] = {}  # 'link'/'og' → raw URL, for the part being read
    in_head = True
    position = 0
    while (token := _TOKEN.search(body, position)) is not None:
        comment, raw_text, tag_name, head_end, body_start = token.groups()
        if head_end or body_start:
            if in_head:
                in_head = False
                if _settle(page, found, base, "in the head"):
                    return page
            position = token.end()
            continue
        if comment:
            end = body.find(b"-->", token.end())
            if end < 0:
                break
            position = end + 3
            continue
        if raw_text:
            name = raw_text.lower()
            open_tag = _TAG.match(body, token.start())
            if open_tag is None:
                break
            close = _CLOSE[name].search(body, open_tag.end())
            if close is None:
                break  # the rest of the document is inside it
            if name in (b"title", b"h1"):
                text = html_text(body[open_tag.end() : close.start()].decode(charset, "replace"))
                if name == b"title" and page.title is None:
                    page.title = text
                elif name == b"h1" and len(page.headings) < KEEP:
                    page.headings.append(text)
            position = close.end()
            continue
        tag = _TAG.match(body, token.start())
        if tag is None:
            break
        position = tag.end()
        attributes = _attributes(tag.group(1), charset)
        name = tag_name.lower()
        if name == b"base" and in_head and attributes.get("href"):
            base = urljoin(base, attributes["href"].strip())
        elif name == b"link":
            rel = attributes.get("rel", "").lower().split()
            if "canonical" in rel and attributes.get("href", "").strip():
                found.setdefault("link", attributes["href"].strip())
        elif name == b"meta":
            _meta(page, found, attributes, base)
        elif name == b"form" and len(page.forms) < KEEP:
            page.forms.append(attributes)
        elif name == b"iframe" and len(page.frames) < KEEP:
            page.frames.append(attributes.get("src", ""))
    _settle(page, found, base, "in the head" if in_head else "in the body")
    return page


def _settle(page: Page, found: dict[str, str], base: str, where: str) -> bool:
    """Take the canonical URL found so far (a ``link`` before an ``og:url``); True if any."""
    for key, label in (("link", "link rel=canonical"), ("og", "og:url")):
        if key in found:
            page.canonical = urljoin(base, found[key])
            page.canonical_from = f"{label} {where}"
            return True
    return False


def _meta(page: Page, found: dict[str, str], attributes: dict[str, str], base: str) -> None:
    name = (attributes.get("property") or attributes.get("name") or "").strip().lower()
    content = attributes.get("content", "").strip()
    if not content:
        return
    if name == "og:url":
        found.setdefault("og", content)
    elif (
        name in ("og:image", "og:image:url", "og:video", "og:video:url") and len(page.media) < KEEP
    ):
        page.media.append((name[3:8], urljoin(base, content)))


def _attributes(raw: bytes, charset: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw):
        name = match.group(1).decode("ascii", "replace").lower()
        value = match.group(2) or match.group(3) or match.group(4) or b""
        values.setdefault(name, html.unescape(value.decode(charset, "replace")))
    return values


def _charset(capture: Capture) -> str:
    declared = _CHARSET.search((capture.header("Content-Type") or "").encode("latin-1", "replace"))
    if declared is None:
        declared = _CHARSET.search(capture.body[:4096])
    if declared is not None:
        name = declared.group(1).decode("ascii")
        try:
            return codecs.lookup(name).name
        except LookupError:
            pass
    return "utf-8"


def challenge(page: Page, capture: Capture) -> str | None:
    """Why the answer is a bot challenge or block page rather than the page, or None.

    Read from structure only: Cloudflare's ``cf-mitigated: challenge`` header, or, on a page
    that names no canonical URL, a title that is a challenge's whole title, a main heading that
    begins as one does, or a form or frame that is a captcha or challenge."""
    mitigated = (capture.header("cf-mitigated") or "").strip().lower()
    if mitigated == "challenge":
        return "Cloudflare challenge (cf-mitigated: challenge)"
    if page.canonical is not None:
        return None
    if page.title is not None and _plain(page.title) in CHALLENGE_TITLES:
        return f"bot challenge page (title {page.title!r})"
    for heading in page.headings:
        if _plain(heading).startswith(CHALLENGE_HEADINGS):
            return f"bot challenge page (heading {heading!r})"
    for form in page.forms:
        parts = " ".join(form.get(key, "") for key in ("id", "class", "name", "action"))
        if _CHALLENGE_PART.search(parts):
            return f"bot challenge page (a captcha or challenge form: {parts.strip()!r})"
    for source in page.frames:
        if _CHALLENGE_PART.search(source):
            return f"bot challenge page (a captcha frame: {source!r})"
    return None


def _plain(text: str) -> str:
    return " ".join(text.replace("…", "...").split()).lower()


# -- URLs ------------------------------------------------------------------------------------


def site(url: str) -> str:
    """The host a URL is on, in lower case, without a leading ``www.`` or a port."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:  # a malformed address (an unclosed IPv6 bracket) is on no site
        return ""
    return host[4:] if host.startswith("www.") else host


def same_site(url: str, other: str) -> bool:
    """The same host, or one a subdomain of the other (``blog.example.org``, ``example.org``)."""
    a, b = site(url), site(other)
    return bool(a and b) and (a == b or a.endswith("." + b) or b.endswith("." + a))


def comparable(url: str) -> tuple[str, str, str, str]:
    """What two URLs of the same page have in common (see the module's docstring)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    scheme = "http" if scheme in ("http", "https") else scheme
    port = _port(url)
    host = site(url) + (f":{port}" if port is not None else "")
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~").rstrip("/") or "/"
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _tracking(name, value)
    )
    return scheme, host, path, "&".join(f"{name}={value}" for name, value in query)


def _port(url: str) -> int | None:
    try:
        port = urlsplit(url.strip()).port
    except ValueError:  # not a number: the URL is compared as written
        return None
    return None if port in (80, 443) else port


def same_url(url: str, other: str) -> bool:
    return comparable(url) == comparable(other)


def is_root(url: str) -> bool:
    """The URL is a site's home page (``https://example.org/``)."""
    return comparable(url)[2] == "/" and not urlsplit(url).query


def _tracking(name: str, value: str) -> bool:
    lowered = name.lower()
    if lowered.startswith("utm_") or lowered in TRACKING:
        return True
    return lowered in _FEED_MARKED and bool(_FEED_VALUE.match(value))
