"""Encryption at rest for the most identifying client fields (NIK, phone, address).

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under FIELD_ENCRYPTION_KEY, a
comma-separated list whose first key encrypts and every key decrypts, so a key can be
rotated: put the new key first, run `manage.py rotate_field_encryption`, then drop the old
key. Exact NIK matching (duplicate detection) uses an HMAC-SHA256 under FIELD_HASH_KEY,
since the ciphertext of the same NIK differs every time.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models


@cache
def _fernet(keys):
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def fernet():
    return _fernet(settings.FIELD_ENCRYPTION_KEY)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


def reencrypt(token: str) -> str:
    """The same value under the current first key."""
    return fernet().rotate(token.encode()).decode()


def keyed_hash(value: str) -> str:
    return hmac.new(settings.FIELD_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedCharField(models.TextField):
    """A short text stored encrypted. The empty string stays empty (so "has a phone" is a
    plain filter); any other lookup on the ciphertext is meaningless and not offered."""

    def __init__(self, *args, max_length=None, **kwargs):
        self.plain_max_length = max_length
        super().__init__(*args, **kwargs)
        if max_length:
            self.validators.append(MaxLengthValidator(max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length:
            kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.CharField, "max_length": self.plain_max_length, **kwargs})
