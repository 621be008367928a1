"""
Every language: what staff and residents read exists in every language of LANGUAGES.

Checks the texts code defines (model and field names, help texts, choices, admin actions,
columns and filters) rather than rendering pages: a text that comes out the same in another
language than in English was not translated.
"""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.fields import GenericForeignKey
from django.utils import translation
from django.utils.functional import Promise
from django_countries.fields import CountryField

LINLI_APPS = ["stations", "privacy", "notifications", "registration", "inquiries", "workspace"]
OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
# Texts that are the same in every language (codes, proper names, symbols).
# "WeChat ID" is a brand and a code: Japanese keeps it as written.
SAME_EVERYWHERE = {
    "WeChat",
    "WeChat ID",
    "SMS",
    "Email",
    "URL",
    "ID",
    "QR",
    "PDF",
    "CSV",
    "PNG",
    "SVG",
}


def _is_text(value) -> bool:
    return isinstance(value, Promise | str) and re.search(r"[A-Za-z]{3,}", str(value))


def _in(language: str, value) -> str:
    with translation.override(language):
        return str(value)


def _model_texts(model):
    opts = model._meta
    yield "verbose_name", opts.verbose_name
    yield "verbose_name_plural", opts.verbose_name_plural
    for field in opts.get_fields():
        if (field.auto_created and not field.concrete) or isinstance(field, GenericForeignKey):
            continue  # reverse relations and generic keys are not shown by name
        yield f"{field.name}.verbose_name", getattr(field, "verbose_name", "")
        yield f"{field.name}.help_text", getattr(field, "help_text", "")
        if isinstance(field, CountryField):
            continue  # django-countries' own catalogues name the countries
        for value, label in getattr(field, "flatchoices", None) or []:
            if value not in ("", None) and field.model.__module__.split(".")[0] in LINLI_APPS:
                yield f"{field.name}.choice[{value}]", label


def _admin_texts(model_admin):
    for name, action in model_admin.get_actions(_Request()).items():
        yield f"action {name}", action.description
    for column in model_admin.list_display:
        func = getattr(model_admin, column, None) if isinstance(column, str) else column
        description = getattr(func, "short_description", None)
        if description:
            yield f"column {column}", description
    for item in model_admin.list_filter:
        title = getattr(item, "title", None)
        if title:
            yield f"filter {getattr(item, '__name__', item)}", title


class _User:
    is_active = is_staff = is_superuser = is_authenticated = True

    def has_perm(self, perm, obj=None):
        return True

    def has_perms(self, perms, obj=None):
        return True


class _Request:
    GET: dict = {}
    POST: dict = {}
    method = "GET"
    user = _User()
    META: dict = {}


def _untranslated(texts):
    missing = []
    for where, text in texts:
        if not _is_text(text) or str(text) in SAME_EVERYWHERE:
            continue
        english = _in("en", text)
        for language in OTHER_LANGUAGES:
            if _in(language, text) == english:
                missing.append(f"{where} [{language}]: {english!r}")
    return missing


@pytest.mark.parametrize("app_label", LINLI_APPS)
def test_every_model_text_is_translated(app_label):
    missing = []
    for model in apps.get_app_config(app_label).get_models():
        if model.__name__.startswith("Historical"):
            continue
        missing += [f"{model.__name__}.{m}" for m in _untranslated(_model_texts(model))]
    assert missing == []


@pytest.mark.parametrize(
    "model",
    [m for m in admin.site._registry if m._meta.app_label in LINLI_APPS],
    ids=lambda m: m._meta.label,
)
def test_every_admin_text_is_translated(model):
    model_admin = admin.site._registry[model]
    assert _untranslated(_admin_texts(model_admin)) == []


def test_app_names_are_translated():
    texts = [(label, apps.get_app_config(label).verbose_name) for label in LINLI_APPS]
    assert _untranslated(texts) == []


def test_texts_django_shows_in_linli_pages_are_translated():
    from django.db.models.fields import BLANK_CHOICE_LABEL

    from core.translations import DJANGO_CATALOGUE_GAPS

    assert _untranslated([("blank choice", BLANK_CHOICE_LABEL)]) == []
    assert (
        _untranslated([(text, translation.gettext_lazy(text)) for text in DJANGO_CATALOGUE_GAPS])
        == []
    )
