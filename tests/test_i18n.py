"""Both languages: the catalogues cover every string in the code, and the switch works."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = {"zh_Hans": ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"}


def _entries(po: Path) -> dict[str, tuple[str, bool]]:
    """msgid → (msgstr, fuzzy) for a .po file, plural forms folded into their singular."""
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh)
    out: dict[str, tuple[str, bool]] = {}
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        msgstr = message.string if isinstance(message.string, str) else " ".join(message.string)
        out[msgid] = (msgstr, message.fuzzy)
    return out


def test_it_translates_every_string_of_the_code(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext is not installed (make test installs it)")
    # Extract afresh from a copy of the code, so the committed catalogue is not touched.
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", "var", ".git", "node_modules", "artifacts", "*.pyc", "__pycache__", ".*cache"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--ignore=tests",
            "--ignore=bench",
            "-v",
            "0",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "CALLDECK_DEMO": "true", "HOME": str(tmp_path)},
    )
    fresh = _entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    committed = _entries(CATALOGUES["zh_Hans"])
    missing = sorted(m for m in fresh if not committed.get(m, ("", False))[0])
    fuzzy = sorted(m for m, (_s, is_fuzzy) in committed.items() if is_fuzzy and m in fresh)
    assert not missing, f"{len(missing)} strings have no Chinese translation: {missing[:20]}"
    assert not fuzzy, f"fuzzy translations to review: {fuzzy[:20]}"


def test_it_speaks_chinese_by_default_and_english_on_request(db, settings) -> None:  # type: ignore[no-untyped-def]
    settings.LANGUAGE_CODE = "zh-hans"  # the shipped default
    with translation.override("zh-hans"):
        assert translation.gettext(
            "Save the outcome of the last call first: the next customer comes after the wrap-up."
        ).startswith("请先保存")
    client = HttpClient()
    assert "登录" in client.get("/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Log in" in client.get("/login/").content.decode()
