"""The CSP stays strict (`style-src 'self'`, `script-src 'self'`): no template carries an
inline style or script for the browser to refuse. The browser tests catch what a template
scan cannot (a library injecting one): browser_page fails on any CSP violation."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html"))
INLINE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
]


def test_templates_are_found():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_inline_style_or_script(path):
    text = path.read_text(encoding="utf-8")
    found = [what for pattern, what in INLINE if pattern.search(text)]
    assert not found, f"{path.name} has {', '.join(found)}: the CSP refuses it"


def test_the_policy_is_strict():
    policy = settings.CONTENT_SECURITY_POLICY
    assert "style-src 'self';" in policy and "script-src 'self';" in policy and "unsafe-inline" not in policy
