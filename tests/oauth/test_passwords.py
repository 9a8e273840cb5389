"""Argon2 hashes new passwords; an existing PBKDF2 hash still signs in and is re-hashed with
Argon2 by that sign-in (Django's upgrade on login), here through the OAuth password grant."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher, make_password
from django.test import override_settings

from feedsite.settings import PASSWORD_HASHERS
from tests.factories import PASSWORD, AccountFactory

pytestmark = pytest.mark.django_db


def test_argon2_first_pbkdf2_kept():
    assert PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS != PASSWORD_HASHERS  # tests hash cheaply (test_settings)


@override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS)
def test_a_pbkdf2_hash_is_upgraded_to_argon2_on_sign_in(password_token):
    account = AccountFactory()
    account.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    account.save(update_fields=["password"])
    assert password_token(account, "read")
    account.refresh_from_db()
    assert identify_hasher(account.password).algorithm == "argon2"
    assert account.check_password(PASSWORD)
