"""Headless Chromium against each framework's production server, with a screenshot per step.

The projects, their databases and the servers come from the contract suite's fixtures and
helpers (tests/contract/conftest.py; this package lives inside it, so the two suites share one
rendered and installed project per framework): the same answers, the same users, the same
``<slug> serve`` in production mode.

The browser is Debian's ``chromium`` driven by Playwright for Python. Playwright's own browser
downloads are never used (the machines have no internet); a missing ``/usr/bin/chromium`` fails
the tests instead of skipping them, so CI cannot go green without running them (.ci/run
installs it).

Every step of a test is wrapped in ``steps.step(name)``, which saves a screenshot named
``NN-<name>-passed.png`` or ``NN-<name>-failed.png`` under
``<screenshot root>/<framework>/<test>/``; a test that fails outside a step gets ``failed.png``.
The root is ``$SCAFFOLD_SCREENSHOTS`` or ``test-artifacts/screenshots/`` (which ignores itself
in git, like .ci-venv/). The terminal summary lists what this run saved.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from tests.contract.conftest import REPO_ROOT, Database, Project, Server, served

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The browser tests log in a few times from one address; the limit itself is the contract
# suite's business.
BROWSER_RATE_LIMIT = "1000/minute"
# Playwright's default of 30 s; a slow shared machine renders the admin's pages well within it.
TIMEOUT_MS = 30_000
DEFAULT_SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"

SAVED_SCREENSHOTS: list[Path] = []
REPORT_KEY = pytest.StashKey[pytest.TestReport]()


def screenshot_root() -> Path:
    configured = os.environ.get("SCAFFOLD_SCREENSHOTS")
    if configured:
        return Path(configured).absolute()
    artifacts = DEFAULT_SCREENSHOTS.parent
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / ".gitignore").write_text("*\n", encoding="utf-8")
    return DEFAULT_SCREENSHOTS


class Steps:
    """Runs the named steps of one test and photographs the page after each."""

    def __init__(self, page: Page, directory: Path) -> None:
        self.page = page
        self.directory = directory
        self.count = 0
        self.failed_step = False

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.count += 1
        stem = f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        try:
            yield
        except BaseException:
            self.failed_step = True
            self.shoot(f"{stem}-failed.png")
            raise
        self.shoot(f"{stem}-passed.png")

    def shoot(self, filename: str) -> None:
        path = self.directory / filename
        # A screenshot that cannot be taken (the page crashed) must not hide the real error.
        with contextlib.suppress(Exception):
            self.page.screenshot(path=path, full_page=True)
            SAVED_SCREENSHOTS.append(path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[REPORT_KEY] = report
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SAVED_SCREENSHOTS:
        terminalreporter.write_sep("-", f"browser screenshots: {len(SAVED_SCREENSHOTS)} saved")
        for path in SAVED_SCREENSHOTS:
            terminalreporter.write_line(str(path))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium "
            "(`apt-get install -y chromium`; .ci/run installs it)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def browser_server(project: Project, database: Database) -> Iterator[Server]:
    """The production server the browser talks to, on its own copy of the database."""
    with served(project, database, "browser", rate_limit=BROWSER_RATE_LIMIT) as server:
        yield server


@pytest.fixture
def offsite_requests() -> list[str]:
    """URLs the page tried to load from anywhere but the server (all of them blocked)."""
    return []


@pytest.fixture
def page(chromium: Browser, browser_server: Server, offsite_requests: list[str]) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose requests may only reach the server.

    The pages' Content-Security-Policy must not refuse anything they do: a refusal Chromium
    reports in the console fails the test (at teardown, naming what was refused).
    """
    context = chromium.new_context(base_url=browser_server.base_url)
    context.set_default_timeout(TIMEOUT_MS)
    origin = browser_server.base_url

    def only_the_server(route: Route) -> None:
        url = route.request.url
        if url == origin or url.startswith(f"{origin}/"):
            route.continue_()
        else:
            offsite_requests.append(url)
            route.abort()

    context.route("**/*", only_the_server)
    page = context.new_page()
    refused: list[str] = []

    def csp_violation(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", csp_violation)
    yield page
    context.close()
    if refused:
        pytest.fail("the Content-Security-Policy refused:\n" + "\n".join(refused), pytrace=False)


@pytest.fixture
def steps(request: pytest.FixtureRequest, page: Page, browser_server: Server) -> Iterator[Steps]:
    directory = screenshot_root() / browser_server.framework / request.node.originalname
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    steps = Steps(page, directory)
    yield steps
    report = request.node.stash.get(REPORT_KEY, None)
    if report is not None and report.failed and not steps.failed_step:
        steps.shoot("failed.png")
