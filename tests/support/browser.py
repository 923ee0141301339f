"""The console in a real browser: the app served on loopback against the test's own database and
Redis, Debian's Chromium driven through its ChromeDriver by Selenium, and a screenshot at each
step under test-output/browser/<test>/ for review (one more, `failed`, when a test fails).

A pytest plugin: a test module takes it with `pytest_plugins = ["tests.support.browser"]` and
asks for `browser` (a tab, signed out, on the live console) and `live_console` (the server)."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from werkzeug.serving import WSGIRequestHandler, make_server

from bot.config import Settings, use_settings

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "browser"
# Debian's packages, which `make browser` installs: Selenium is given both paths so that its
# Selenium Manager never tries to download a browser or a driver.
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MISSING = "chromium and chromium-driver are not installed: run `make browser` as root (Debian)"
PHONE = (412, 915)
DESKTOP = (1280, 900)
WAIT_SECONDS = 15
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # as root in a container, Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # a container's /dev/shm is too small for Chromium's renderers
    "--no-first-run",
    # Offline and quiet: nothing phones home, and nothing waits for a network that is not there.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--log-level=3",
    "--hide-scrollbars",  # a whole-page screenshot is as wide as the window, not a bar less
    "--lang=en-US",  # the console speaks the browser's language until a test switches it
)
# What a person can press: buttons and links, by the words on them.
_PRESSABLE = """
const label = arguments[0];
const words = (e) => (e.innerText || e.value || "").replace(/\\s+/g, " ").trim();
const shown = [...document.querySelectorAll("button, a, input[type=submit]")]
  .filter((e) => e.getClientRects().length > 0 && !e.disabled);
return shown.find((e) => words(e) === label) || null;
"""

_ARRIVED = """
return document.circlebotLeft === undefined && document.readyState === "complete";
"""
_READ = """
return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText).join("\\n");
"""


def in_ci() -> bool:
    """Whether this runs in CI, which says so in CI (true on GitHub, GitLab and most others)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_chromium() -> None:
    """Skip where Debian's Chromium cannot be installed; in CI, where it always is, fail."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if in_ci():
        pytest.fail(f"{MISSING} (CI installs them: `make test` runs `make browser`)", False)
    pytest.skip(MISSING)


class _Quiet(WSGIRequestHandler):
    """No line per request: the page's script asks every second while a message is on its way."""

    def log_request(self, *args) -> None:
        pass


class LiveConsole:
    """The app served by a real HTTP server on loopback, in a thread of the test's own process:
    the same engine and Redis as the test's fixtures, so that the page shows the rows the test
    made, on SQLite and PostgreSQL alike, and the test's clock is the server's."""

    def __init__(self, settings: Settings) -> None:
        from app import create_app

        # The port is known once bound, and the app must know its own address (the sign-in
        # links it prints, and a cookie not marked Secure on plain http): bind, then build.
        self.server = make_server("127.0.0.1", 0, _not_yet, threaded=True,
                                  request_handler=_Quiet)  # fmt: skip
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.settings = settings.model_copy(update={"public_base_url": self.url})
        self.app = create_app(self.settings)
        self.server.app = self.app
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="live console")  # fmt: skip

    def __enter__(self) -> LiveConsole:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)

    def change(self, **values) -> None:
        """Run on with these settings changed: the app reads them afresh on every request."""
        self.settings = self.settings.model_copy(update=values)
        use_settings(self.settings)

    def sign_in_link(self, email: str) -> str:
        """A one-time link, as an operator gets it: `flask --app app operator link EMAIL`."""
        result = self.app.test_cli_runner().invoke(args=["operator", "link", email, "--json"])
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.output)["sign_in_link"]


def _not_yet(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


def start_chromium(profile: Path) -> webdriver.Chrome:
    """Headless Chromium through Debian's ChromeDriver, with a profile of its own."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size={},{}".format(*DESKTOP))
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    return webdriver.Chrome(service=service, options=options)


class Browser:
    """One test's tab: open the console's pages, fill and press as a person would, wait to see
    text, and keep a numbered screenshot of each step."""

    def __init__(self, driver: webdriver.Chrome, live: LiveConsole, shots: Path) -> None:
        self.driver, self.live, self.shots = driver, live, shots
        self.base_url = live.url
        self.taken = 0
        self.desktop()

    def sign_in(self, email: str) -> None:
        """Sign in as the operator by a one-time link, the way `operator link` hands one out."""
        self.open(self.live.sign_in_link(email))
        assert self.path == "/", self.text

    # --- where ---------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The page's path and query, as the address bar shows it after the host."""
        return self.driver.current_url.removeprefix(self.base_url)

    @property
    def text(self) -> str:
        """What the page shows, as a person reads it."""
        return self.read("body")

    def open(self, path_or_url: str) -> None:
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        self.driver.get(url)

    def reload(self) -> None:
        self.driver.refresh()

    # --- what a person does --------------------------------------------------------------

    def fill(self, name: str, value: str) -> None:
        """Type into the visible field called `name`, replacing what it held."""
        field = self._field(name)
        field.clear()
        field.send_keys(value)

    def choose(self, name: str, option: str) -> None:
        """Pick an option of the visible list called `name`, by the words on it."""
        Select(self._field(name)).select_by_visible_text(option)

    def press(self, label: str) -> None:
        """Press the button or link with these words, and wait for the page it leads to."""
        element = self.until(lambda: self.driver.execute_script(_PRESSABLE, label),
                             f"{label!r} to press")  # fmt: skip
        self.driver.execute_script("document.circlebotLeft = true")  # the next page lacks it
        element.click()
        self.until(lambda: self.driver.execute_script(_ARRIVED), f"the page after {label!r}")

    def see(self, words: str, within: str = "body", timeout: float = WAIT_SECONDS) -> None:
        """Wait until the page (or the part of it `within` picks) shows these words: a script
        may still be bringing them."""
        self.until(lambda: words in self.read(within), f"{words!r} in {within}", timeout)

    def until(self, check, what: str, timeout: float = WAIT_SECONDS):
        """Wait until `check()` holds, and return what it gave: the page may still be loading,
        or its script changing it."""
        # Mid-navigation ChromeDriver answers with errors of many kinds: ask again, until the
        # time is up.
        waiting = WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,))
        try:
            return waiting.until(lambda _: check())
        except TimeoutException:
            with suppress(WebDriverException):
                what += f" on {self.path}:\n{self.text}"
            raise AssertionError(f"timed out waiting for {what}") from None

    def read(self, css: str = "body") -> str:
        """What the parts of the page `css` picks show, one after another."""
        # In one script, so that a part the page's script swaps meanwhile is never half read.
        return self.driver.execute_script(_READ, css)

    def find(self, css: str) -> list[WebElement]:
        """The page's elements that `css` picks."""
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    # --- screenshots ---------------------------------------------------------------------

    def phone(self) -> None:
        """Show pages as a phone draws them: 412 by 915, touch and all."""
        self._size(PHONE, mobile=True)

    def desktop(self) -> None:
        """Show pages as a laptop's window does."""
        self._size(DESKTOP, mobile=False)

    def _size(self, width_height: tuple[int, int], mobile: bool) -> None:
        width, height = width_height
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
        })  # fmt: skip
        self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": mobile})

    def shot(self, step: str) -> Path:
        """Save the whole page, not only the part in view, as <NN>-<step>.png."""
        self.taken += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.shots / f"{self.taken:02d}-{slug}.png"
        picture = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        self.shots.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(picture["data"]))
        return path

    # --- within ----------------------------------------------------------------------------

    def _field(self, name: str) -> WebElement:
        shown = [e for e in self.find(f'[name="{name}"]') if e.is_displayed()]
        assert shown, f"no field {name!r} on {self.path}"
        return shown[0]


# --- the plugin: fixtures and the screenshot of a failure ------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    """One Chromium for the run, in a fresh profile; each test's tab starts signed out."""
    require_chromium()
    profile = Path(tempfile.mkdtemp(prefix="circlebot-chromium-"))
    driver = start_chromium(profile)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def live_console(settings) -> Iterator[LiveConsole]:
    """The console on a real HTTP server, on the test's database and Redis."""
    with LiveConsole(settings) as live:
        yield live


@pytest.fixture
def browser(request, chromium, live_console) -> Iterator[Browser]:
    """A tab on the live console, signed out, its screenshots in test-output/browser/<test>/."""
    shots = SHOTS / re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(shots, ignore_errors=True)  # the last run's pictures of this test
    # Cookies are kept per host, not per port: yesterday's session must not sign this test in.
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    tab = Browser(chromium, live_console, shots)
    try:
        yield tab
    finally:
        chromium.get("about:blank")  # stop the page's script asking a server about to stop


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, keep what the page showed then."""
    report = yield
    tab = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and isinstance(tab, Browser):
        with suppress(Exception):  # a browser that died is the failure already reported
            tab.shot("failed")
    return report
