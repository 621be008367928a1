"""
Strings that Django 6.1 shows but its own Simplified Chinese catalogue does not translate
yet. Marking them here puts them into ``locale/`` (which ``LOCALE_PATHS`` lets override
Django's catalogues), so staff and residents never meet an English word in a select box.
Drop an entry once Django's catalogue has it.
"""

from django.utils.translation import gettext_noop

DJANGO_CATALOGUE_GAPS = [
    gettext_noop("- Select an option -"),  # django.db.models.fields.BLANK_CHOICE_LABEL
]
