"""Browser fixtures: a live Pifa server with the demo data, and Debian's chromium.

Playwright's own browser download cannot reach its server here, so the browser is
always /usr/bin/chromium. The live server runs its own app on its own SQLite file
(even when TEST_DATABASE_URL is set), so it never touches the main test database.
"""

import os
import threading
from pathlib import Path

import pytest

from tests.conftest import app_config, need

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
MOBILE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
          "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1,
           "locale": "zh-CN"}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The live server's app: tests may add rows to its database in its app context."""
    import app as pifa
    from app.demo.seed import seed_demo
    from app.extensions import db
    from app.platform.security import sync_roles

    folder = tmp_path_factory.mktemp("e2e")
    app = pifa.create_app(app_config(tmp_path_factory,
                                     DATABASE_URL=f"sqlite:///{folder / 'e2e.db'}",
                                     MEDIA_ROOT=str(folder / "media")))
    with app.app_context():
        db.create_all()
        sync_roles(app.appbuilder)
        db.session.commit()
        seed_demo()
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    from werkzeug.serving import make_server

    app = live_app
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    need(os.path.exists(CHROMIUM),
         f"{CHROMIUM} is missing (apt-get install chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(desktop=False): a page in a fresh context (own cookies), closed after the test."""
    contexts = []

    def make(desktop: bool = False):
        context = browser.new_context(base_url=live_server, **(DESKTOP if desktop else MOBILE))
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A 375x812 phone page (device scale 2, zh-CN) with its own cookies."""
    return new_page()


@pytest.fixture(scope="session")
def shot():
    """shot(page, "01-login-zh"): a full-page PNG in tests/e2e/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
