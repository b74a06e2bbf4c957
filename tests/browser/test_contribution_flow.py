"""In a real browser: France shares a case with Germany, Germany adds what it knows and a photo
(in French), France reads both on the case page and from its inbox; Mali, which does not read
the case, sees nothing of it. axe checks the case page with its thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.wiring import Exchange
from tests.browser.test_accessibility import violations
from tests.browser.test_analyst_flow import sign_in, sign_out
from tests.conftest import PASSWORD
from tests.test_attachments import jpeg_with_gps

pytestmark = pytest.mark.browser

TEXT = "Licence DE-2017-0932 : livraison à un utilisateur final gouvernemental."


def test_germany_adds_to_a_shared_case_and_france_reads_it(live_server: str,
                                                           live_exchange: Exchange,
                                                           browser: Any,
                                                           tmp_path: Path) -> None:
    directory = live_exchange.directory
    fra = directory.authenticate("fra.analyst", PASSWORD)
    case_id = live_exchange.cases.open_case(fra, {"title": "Rifles found at Kidira"})
    live_exchange.cases.share(fra, case_id, 1, "bilateral", ["DEU"])
    page = browser.new_page()
    sign_in(page, live_server, "deu.analyst")
    page.select_option("#lang", "fr")
    page.click("form.lang button")
    page.goto(f"{live_server}/cases/{case_id}")
    assert page.locator("#retention").count() == 0  # the owner's panel
    page.select_option("#f-kind", "information")
    page.fill("#f-text", TEXT)
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(jpeg_with_gps())
    page.set_input_files("#f-attachment", str(photo))
    page.click("#contributions button[type=submit]")
    assert TEXT in page.inner_text("#contributions")
    assert page.locator("#contributions img").evaluate("img => img.naturalWidth") == 64
    assert violations(page) == []
    sign_out(page, live_server)
    sign_in(page, live_server, "fra.analyst")
    page.goto(f"{live_server}/inbox/")
    page.click("main a[href*='#contribution-']")
    assert TEXT in page.inner_text("#contributions") and "DEU" in page.inner_text(
        "#contributions article header")
    assert "IMG_0042.jpg" in page.inner_text("#contributions")
    sign_out(page, live_server)
    sign_in(page, live_server, "mli.analyst")
    response = page.goto(f"{live_server}/cases/{case_id}")
    assert response is not None and response.status == 404
    assert TEXT not in page.content()
    page.close()
