"""
Real-browser fixtures: Debian's Chromium driven by Playwright's Python package.

Playwright's own browser download cannot work on these machines, so the tests launch
``/usr/bin/chromium`` (or ``LINLI_CHROMIUM``). Without it they skip with a reason under
``make test``; ``.ci/run`` sets ``LINLI_REQUIRE_BROWSER=1`` and then a missing browser fails.
"""

import gzip
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE_JS = Path(__file__).with_name("vendor") / "axe.min.js"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    # WeChat's in-app browser on Android identifies itself like this.
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.49"
    ),
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
ACCEPT_LANGUAGE = {"en": "en-GB,en;q=0.9", "zh-hans": "zh-CN,zh;q=0.9"}
# The phone's own language setting. For the languages above the header is also set by
# hand; any other language reaches the server only as the browser itself sends it.
LOCALES = {"en": "en-GB", "zh-hans": "zh-CN", "ko": "ko-KR", "ja": "ja-JP", "ar": "ar-EG"}


def _require_browser() -> bool:
    return os.environ.get("LINLI_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is pinned in requirements-dev
        if _require_browser():
            pytest.fail("playwright is not installed but LINLI_REQUIRE_BROWSER=1")
        pytest.skip("playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if _require_browser():
            pytest.fail(f"{reason}, but LINLI_REQUIRE_BROWSER=1 requires the browser tests")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Traffic:
    """What a page asked for: every URL, and the gzip size of what the live server sent."""

    allowed_origin: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    compressed_bytes: int = 0

    def record(self, response) -> None:
        try:
            body = response.body()
        except Exception:  # redirects and aborted requests have no body
            return
        self.compressed_bytes += len(gzip.compress(body, compresslevel=6))


def _open_context(browser, live_server, *, device: dict, language: str):
    headers = {"Accept-Language": ACCEPT_LANGUAGE[language]} if language in ACCEPT_LANGUAGE else {}
    context = browser.new_context(
        **device, locale=LOCALES.get(language, language), extra_http_headers=headers
    )
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(live_server.url))
    traffic = Traffic(allowed_origin=origin)

    def guard(route):
        url = route.request.url
        traffic.requests.append(url)
        if url.startswith(origin) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:  # residents' networks cannot reach other hosts: nothing may depend on one
            traffic.blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    context.on("response", traffic.record)
    # Generous: on a busy 2-core machine a page that sends mail may take seconds; a wait
    # that runs out is a flaky failure, not a finding.
    context.set_default_timeout(30_000)
    context.set_default_navigation_timeout(60_000)
    return context, traffic


@pytest.fixture
def open_page(browser, live_server):
    """Open a page on a phone (default) or desktop in a language; returns (page, traffic)."""
    contexts = []

    def _open(language: str = "en", *, device: dict | None = None):
        context, traffic = _open_context(
            browser, live_server, device=device or PHONE, language=language
        )
        contexts.append(context)
        page = context.new_page()
        return page, traffic

    yield _open
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot into test-artifacts/screenshots/ for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the page and return the violations of the given impacts."""
    # Evaluated through the DevTools protocol, which the page's CSP (rightly) does not allow
    # for injected <script> tags.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def has_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"
    )
