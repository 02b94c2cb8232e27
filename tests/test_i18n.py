"""English, Russian and Slovak are complete for every string that exists, and the .mo files are current."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "smmdesk" / "locale"
LANGUAGES = ["ru", "sk"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\{\s*[\w.]+\s*\}\}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_complete_and_consistent(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    assert not untranslated, f"{language}: untranslated {untranslated[:10]}"
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not fuzzy and "fuzzy" not in po.metadata_as_entry().flags
    for entry in po.translated_entries():
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(PLACEHOLDER.findall(text)) == expected or entry.msgid_plural, (
                language,
                entry.msgid,
            )


@pytest.mark.parametrize("language", LANGUAGES)
def test_mo_compiled_from_current_po(language):
    folder = LOCALE / language / "LC_MESSAGES"
    po = {
        (e.msgid, e.msgstr)
        for e in polib.pofile(str(folder / "django.po")).translated_entries()
        if not e.msgid_plural
    }
    mo = {(e.msgid, e.msgstr) for e in polib.mofile(str(folder / "django.mo")) if not e.msgid_plural}
    assert po == mo, "run `make messages` (or python -m smmdesk.lib.compilemessages)"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is installed by `make test`")
def test_every_source_string_is_in_the_catalogue(tmp_path):
    copy = tmp_path / "smmdesk"
    shutil.copytree(ROOT / "smmdesk", copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "tests"))
    (copy / "locale").mkdir()
    django_admin = Path(sys.executable).with_name("django-admin")
    subprocess.run(
        [django_admin, "makemessages", "-l", "ru", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={
            "PATH": "/usr/bin:/bin",
            "SMMDESK_DATA_DIR": str(tmp_path / "d"),
            "DJANGO_SETTINGS_MODULE": "smmdesk.settings",
            "PYTHONPATH": str(ROOT),
        },
    )
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale/ru/LC_MESSAGES/django.po"))}
    for language in LANGUAGES:
        committed = {
            e.msgid for e in polib.pofile(str(LOCALE / language / "LC_MESSAGES/django.po")) if not e.obsolete
        }
        missing = fresh - committed
        assert not missing, (
            f"{language}: strings missing from the catalogue, run `make messages`: {sorted(missing)[:10]}"
        )
