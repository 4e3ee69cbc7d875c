"""Settings fail loudly: a value that cannot be understood stops start-up, naming it.

Each case imports the settings in a fresh interpreter, so the settings of this test run
are never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"SECRET_KEY": "not-a-secret", "DEBUG": "false"}
# Variables of the developer's shell that would change what settings see.
READ_BY_SETTINGS = [
    "DEBUG", "SECRET_KEY", "CALLDECK_DEMO", "DATABASE_URL", "TIME_ZONE", "LANGUAGE_CODE",
    "CALLDECK_TELEPHONY", "CALLDECK_SIM_SPEED", "CALLDECK_SIM_ANSWER_RATE", "CALLDECK_SIM_SEED",
    "CALLDECK_LOCKOUT_FAILURES", "CALLDECK_LOCKOUT_HOURS", "LOG_LEVEL", "ALLOWED_HOSTS",
    "REDIS_URL", "CALLDECK_VAR_DIR", "CALLDECK_DAILY_CONTACT_LIMIT",
]  # fmt: skip


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in READ_BY_SETTINGS}
    return subprocess.run(
        [sys.executable, "-c", "import calldeck.settings"],
        cwd=ROOT,
        env={**clean, **GOOD, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_imports_with_good_values() -> None:
    result = import_settings(
        DEBUG="true",
        TIME_ZONE="Asia/Shanghai",
        DATABASE_URL="postgres://calldeck@db.example:5432/calldeck",
        CALLDECK_TELEPHONY="sip",
        CALLDECK_SIM_SPEED="10",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("TIME_ZONE", "Mars/Base"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "not a url"),
        ("CALLDECK_TELEPHONY", "pigeon"),
        ("CALLDECK_SIM_SPEED", "fast"),
        ("CALLDECK_SIM_SPEED", "0"),
        ("CALLDECK_SIM_ANSWER_RATE", "1.5"),
        ("LANGUAGE_CODE", "fr"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_it_refuses_a_bad_value_and_names_the_variable(name: str, value: str) -> None:
    result = import_settings(**{name: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr
    assert name in last_line


def test_it_refuses_a_bad_demo_flag_when_it_decides_the_secret_key() -> None:
    # CALLDECK_DEMO is read only when SECRET_KEY is empty.
    result = import_settings(SECRET_KEY="", CALLDECK_DEMO="sure")
    assert "ImproperlyConfigured: CALLDECK_DEMO" in result.stderr


def test_it_requires_a_secret_key_outside_the_demo() -> None:
    result = import_settings(SECRET_KEY="", DEBUG="false")
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr
    # The demo runs with its built-in key.
    assert import_settings(SECRET_KEY="", CALLDECK_DEMO="true").returncode == 0
