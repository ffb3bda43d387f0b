"""Wide tables reflow to one card per row under 576 px (SPEC §9: a cheap phone), and stay
tables on a wider screen."""

import pytest

from .browser_checks import console  # noqa: F401 (a fixture)
from .test_browser import browser_page, shot, sign_in  # noqa: F401 (browser_page is a fixture)

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
ROW_DISPLAY = "getComputedStyle(document.querySelector('table.table-cards tbody tr')).display"
LABEL = "getComputedStyle(document.querySelector('table.table-cards tbody td'), '::before').content"
CELL_WIDER_THAN_WRAPPER = """Array.from(document.querySelectorAll('.table-responsive')).some(
    w => w.scrollWidth > w.clientWidth + 1)"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/caseload/", "access-log"])
def test_tables_become_cards_on_a_phone(browser_page, console, live_server, supervisor, worker, client_a, path):  # noqa: F811
    page, base = browser_page, live_server.url
    if path == "access-log":
        path = f"/clients/{client_a.pk}/access-log/"
    sign_in(page, base, "supervisor_a")
    page.goto(base + path)
    assert page.locator("table.table-cards").count() >= 1
    assert page.evaluate(ROW_DISPLAY) == "block"
    assert page.evaluate(LABEL) not in ("none", "normal", '""')  # each cell names its column
    assert page.evaluate(FITS) and not page.evaluate(CELL_WIDER_THAN_WRAPPER)
    shot(page, "cards" + path.replace("/", "-").rstrip("-"))
    page.set_viewport_size({"width": 992, "height": 740})
    assert page.evaluate(ROW_DISPLAY) == "table-row"
    assert page.evaluate(LABEL) in ("none", "normal")
