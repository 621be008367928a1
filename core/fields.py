"""Model fields that keep their value encrypted in the database."""

from django import forms
from django.db import models

from core.crypto import InvalidToken, decrypt_text, encrypt_text


class EncryptedCharField(models.TextField):
    """
    A short text stored encrypted (Fernet). It cannot be filtered or ordered on: search
    through the blind-index column kept beside it.
    """

    def __init__(self, *args, max_length=None, **kwargs):
        # ``max_length`` limits the plain value (forms); the column holds the longer token.
        self.plain_max_length = max_length
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return decrypt_text(value)
        except (InvalidToken, ValueError):
            # A value no configured key opens: show it as unreadable, never crash a page.
            return "\ufffd"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(str(value))

    def formfield(self, **kwargs):
        defaults = {"form_class": forms.CharField, "max_length": self.plain_max_length}
        defaults.update(kwargs)
        # Skip TextField.formfield (a textarea): these are short, one-line values.
        return models.Field.formfield(self, **defaults)
