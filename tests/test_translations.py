"""The translation catalogues: committed .mo files match their .po, and Indonesian is the default.

The .mo files are committed so that a fresh machine needs no gettext to run the app; these
tests catch a .po edited without `python manage.py compilemessages --ignore ".venv/*"`.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
ID_PO = LOCALE_DIR / "id" / "LC_MESSAGES" / "django.po"
ID_MO = LOCALE_DIR / "id" / "LC_MESSAGES" / "django.mo"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.mo"

PREGNANT_EN = "Only a female client can be pregnant."
PREGNANT_ID = "Hanya klien perempuan yang dapat dicatat hamil."
LTFU_ID = "Putus berobat (LTFU)"


# --- a small .po parser -------------------------------------------------------------------


def _unquote(line):
    """The text of one quoted .po string, C escapes resolved."""
    line = line.strip()
    assert line.startswith('"') and line.endswith('"'), f"not a .po string: {line!r}"
    return ast.literal_eval(line)


def parse_po(path):
    """Entries of a .po file as dicts: msgctxt, msgid, msgid_plural, msgstr (or msgstr[n]), flags.

    Obsolete entries (`#~`) are left out; the header entry (empty msgid) is kept, callers skip it.
    """
    entries = []
    entry, key = None, None

    def finish():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and "msgid" in entry and key is not None and key.startswith("msgstr"):
                # A comment after a msgstr starts the next entry even without a blank line.
                finish()
                entry, key = None, None
            if entry is None:
                entry = {"flags": set()}
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            continue
        m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$', line)
        if m:
            if (
                m.group(1) in ("msgctxt", "msgid")
                and entry is not None
                and key is not None
                and key.startswith("msgstr")
            ):
                finish()
                entry = None
            if entry is None:
                entry = {"flags": set()}
            key = m.group(1)
            entry[key] = _unquote(m.group(2))
            continue
        if line.startswith('"') and key is not None:
            entry[key] += _unquote(line)
            continue
        raise AssertionError(f"{path}: cannot parse line {raw!r}")
    finish()
    return entries


def _messages(path):
    """Entries without the header."""
    return [e for e in parse_po(path) if e["msgid"] != "" or "msgctxt" in e]


def _translations(entry):
    return [v for k, v in entry.items() if k.startswith("msgstr")]


def _lookup(catalog, entry):
    """What the compiled catalogue answers for this (singular) entry."""
    if "msgctxt" in entry:
        return catalog.pgettext(entry["msgctxt"], entry["msgid"])
    return catalog.gettext(entry["msgid"])


def _load_mo(path):
    assert path.exists(), f"{path} is missing: run compilemessages and commit it"
    with path.open("rb") as f:
        return gettext.GNUTranslations(f)


# --- (a) the committed .mo files are up to date -------------------------------------------


def test_parser_reads_every_entry():
    entries = parse_po(ID_PO)
    assert entries[0]["msgid"] == ""  # the header
    assert "Language: id" in entries[0]["msgstr"]
    msgids = [e["msgid"] for e in entries]
    # A message split over several lines is joined back.
    assert (
        "BASODARA records the accompaniment of clients: ARV follow-up, home visits, "
        "referrals and the rapid-response team."
    ) in msgids
    assert len(msgids) == len(set(msgids))
    assert len(_messages(ID_PO)) == len(_messages(EN_PO)) > 100


@pytest.mark.parametrize("po, mo", [(ID_PO, ID_MO), (EN_PO, EN_MO)], ids=["id", "en"])
def test_mo_is_up_to_date_with_po(po, mo):
    catalog = _load_mo(mo)
    stale = []
    for entry in _messages(po):
        if "fuzzy" in entry["flags"]:
            continue  # msgfmt leaves fuzzy entries out; the Indonesian test below refuses them
        if "msgid_plural" in entry:
            # Plural forms are stored per index; compare each one directly.
            key = (f"{entry['msgctxt']}\x04" if "msgctxt" in entry else "") + entry["msgid"]
            for k, v in entry.items():
                if k.startswith("msgstr[") and v and catalog._catalog.get((key, int(k[7:-1]))) != v:
                    stale.append((entry["msgid"], v, catalog._catalog.get((key, int(k[7:-1])))))
            continue
        if entry["msgstr"] and _lookup(catalog, entry) != entry["msgstr"]:
            stale.append((entry["msgid"], entry["msgstr"], _lookup(catalog, entry)))
    assert not stale, f"{mo} is stale; run compilemessages. (msgid, .po, .mo): {stale}"

    # Nor does the .mo hold translations the .po no longer has.
    po_keys = {(f"{e['msgctxt']}\x04" if "msgctxt" in e else "") + e["msgid"] for e in _messages(po)}
    mo_keys = {k[0] if isinstance(k, tuple) else k for k in catalog._catalog if k not in ("", ("", 0))}
    assert mo_keys <= po_keys, f"{mo} has messages not in {po}: {sorted(mo_keys - po_keys)}"


def test_every_message_has_an_indonesian_translation():
    missing = [e["msgid"] for e in _messages(ID_PO) if not all(_translations(e))]
    assert not missing, f"untranslated in {ID_PO}: {missing}"
    fuzzy = [e["msgid"] for e in parse_po(ID_PO) if "fuzzy" in e["flags"]]
    assert not fuzzy, f"fuzzy in {ID_PO}: {fuzzy}"


def test_indonesian_keeps_every_placeholder():
    placeholder = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
    wrong = [
        (e["msgid"], t)
        for e in _messages(ID_PO)
        for t in _translations(e)
        if sorted(placeholder.findall(e["msgid"])) != sorted(placeholder.findall(t))
    ]
    assert not wrong, wrong


def test_english_is_the_source_language():
    assert all(not any(_translations(e)) for e in _messages(EN_PO))
    catalog = _load_mo(EN_MO)
    assert catalog.gettext(PREGNANT_EN) == PREGNANT_EN


# --- (b) model labels ---------------------------------------------------------------------


def test_choice_labels_follow_the_active_language():
    from cases.models import ClientStatus

    with translation.override("id"):
        assert str(ClientStatus.LTFU.label) == LTFU_ID
    with translation.override("en"):
        assert str(ClientStatus.LTFU.label) == "Lost to follow-up"


# --- (c) API messages ---------------------------------------------------------------------

PREGNANT_MALE = {
    "full_name": "X",
    "sex": "M",
    "date_of_birth": "1990-01-01",
    "consent_date": "2026-01-01",
    "pregnant": True,
}


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"HTTP_ACCEPT_LANGUAGE": "id"}, PREGNANT_ID),
        ({"HTTP_ACCEPT_LANGUAGE": "en"}, PREGNANT_EN),
        ({}, PREGNANT_ID),  # Indonesian when the browser says nothing
    ],
    ids=["id", "en", "default"],
)
def test_api_validation_message_is_translated(as_user, supervisor, headers, expected):
    r = as_user(supervisor).post("/api/v1/clients/", PREGNANT_MALE, format="json", **headers)
    assert r.status_code == 400, r.content
    assert r.json()["pregnant"][0] == expected
