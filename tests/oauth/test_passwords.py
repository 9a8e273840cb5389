"""Argon2 hashes new passwords; an existing PBKDF2 hash still signs in and is re-hashed with
Argon2 by that sign-in (Django's upgrade on login), here through the OAuth password grant."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher as DjangoArgon2
from django.contrib.auth.hashers import check_password, get_hasher, identify_hasher, make_password
from django.test import override_settings

from feedsite.settings import PASSWORD_HASHERS
from tests.factories import PASSWORD, AccountFactory

pytestmark = pytest.mark.django_db


def test_argon2_first_pbkdf2_kept():
    assert PASSWORD_HASHERS[0] == "feedsite.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS != PASSWORD_HASHERS  # tests hash cheaply (test_settings)


@override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS)
def test_hashes_with_djangos_argon2_settings_verify_and_are_re_hashed():
    django_default = make_password(PASSWORD, hasher=DjangoArgon2())
    assert check_password(PASSWORD, django_default)
    assert get_hasher("argon2").must_update(django_default)
    assert not get_hasher("argon2").must_update(make_password(PASSWORD))
    assert "m=19456,t=2,p=1" in make_password(PASSWORD)


@override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS)
def test_a_pbkdf2_hash_is_upgraded_to_argon2_on_sign_in(password_token):
    account = AccountFactory()
    account.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    account.save(update_fields=["password"])
    assert password_token(account, "read")
    account.refresh_from_db()
    assert identify_hasher(account.password).algorithm == "argon2" and "m=19456" in account.password
    assert account.check_password(PASSWORD)
