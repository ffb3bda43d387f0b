"""Browser tests fail on a console error, an uncaught exception or a CSP refusal."""

import pytest


class ConsoleWatch:
    def __init__(self, page):
        self.problems = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def _console(self, message):
        # Chromium reports every Content-Security-Policy refusal as a console error.
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"{message.type}: {message.text}")

    def assert_clean(self):
        assert self.problems == [], self.problems


@pytest.fixture
def console(browser_page):
    watch = ConsoleWatch(browser_page)
    yield watch
    watch.assert_clean()
