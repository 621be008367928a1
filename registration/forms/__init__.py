"""
Forms of the registration journey. Every rule raises a ValidationError with a code from
``constants.ErrorCode``; messages are translated and shown next to their field.

- ``register``: the registration form;
- ``updates``: the updates through the private link and the lost-link page;
- ``staff``: the message staff send with a decision, the walk-in and correction forms;
- ``fields``: what they share (widgets, choices, field groups, document and phone rules).
"""

from registration.forms.fields import (
    CLOCK_TOLERANCE,
    DATETIME_INPUT_FORMATS,
    DOCUMENT_NUMBER_RE,
    ContactFieldsMixin,
    DateInput,
    DateTimeInput,
    HoneypotMixin,
    PhotoFieldsMixin,
    StayFieldsMixin,
    VisaFieldsMixin,
    _country_choices,
    clean_document_number,
    clean_phone,
)
from registration.forms.register import MAX_AGE_YEARS, RegistrationForm
from registration.forms.staff import (
    CounterRegistrationForm,
    StaffCorrectionForm,
    StaffMessageForm,
)
from registration.forms.updates import (
    ContactForm,
    DepartureForm,
    LostLinkForm,
    MoveForm,
    ReentryForm,
    StayLongerForm,
    TravelDocumentForm,
    VisaRenewForm,
)

__all__ = [
    "CounterRegistrationForm",
    "StaffCorrectionForm",
    "CLOCK_TOLERANCE",
    "DATETIME_INPUT_FORMATS",
    "DOCUMENT_NUMBER_RE",
    "MAX_AGE_YEARS",
    "ContactFieldsMixin",
    "ContactForm",
    "DateInput",
    "DateTimeInput",
    "DepartureForm",
    "HoneypotMixin",
    "LostLinkForm",
    "MoveForm",
    "ReentryForm",
    "StayLongerForm",
    "PhotoFieldsMixin",
    "RegistrationForm",
    "StaffMessageForm",
    "StayFieldsMixin",
    "TravelDocumentForm",
    "VisaFieldsMixin",
    "VisaRenewForm",
    # The nationality choices in the visitor's language (tests check their order).
    "_country_choices",
    "clean_document_number",
    "clean_phone",
]
