"""Shared fixtures: a small centre with one persona per role (Alice the agent, ...)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.utils import translation

from calldeck.accounts.models import Client, Role, Team, User
from tests import factories as f


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:  # type: ignore[no-untyped-def]
    # Argon2 is meant to be slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    # Uploaded files and reports of a test go to a scratch folder, never to var/.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def english(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    # Tests read messages in English, in services and in pages (a request without a
    # language gets LANGUAGE_CODE); tests/test_i18n.py checks the Chinese side.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@dataclass
class Centre:
    bank: Client
    insurer: Client
    alice: User  # agent of the bank, team A
    bob: User  # agent of the bank, team A
    carol: User  # supervisor of team A
    dave: User  # campaign manager of the bank
    erin: User  # data admin of the bank
    quinn: User  # QA of the bank
    mallory: User  # agent of the insurer only
    team_a: Team


@pytest.fixture
def centre(db: None) -> Centre:
    bank = f.make_client(code="bank", name="示例银行")
    insurer = f.make_client(code="insurer", name="示例保险")
    alice = f.make_user(Role.AGENT, clients=[bank], username="alice", display_name="Alice")
    bob = f.make_user(Role.AGENT, clients=[bank], username="bob", display_name="Bob")
    carol = f.make_user(Role.SUPERVISOR, clients=[bank], username="carol")
    dave = f.make_user(Role.CAMPAIGN_MANAGER, clients=[bank], username="dave")
    erin = f.make_user(Role.DATA_ADMIN, clients=[bank], username="erin")
    quinn = f.make_user(Role.QA, clients=[bank], username="quinn")
    mallory = f.make_user(Role.AGENT, clients=[insurer], username="mallory")
    team_a = f.make_team(members=[alice, bob], supervisor=carol, name="一组")
    return Centre(bank, insurer, alice, bob, carol, dave, erin, quinn, mallory, team_a)
