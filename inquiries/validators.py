"""Validators of residents' free text."""

import re

from django.core.exceptions import ValidationError

from inquiries.constants import ErrorCode

# Something that looks like an HTML tag: "<script", "</b", "<img", "<!--". Output is always
# escaped; rejecting tags tells the sender plainly instead of showing them odd text later.
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!]")


def validate_no_markup(value: str) -> None:
    """Reject text containing HTML tags such as ``<script>``."""
    if value and _TAG.search(value):
        raise ValidationError(ErrorCode.UNSAFE_TEXT.label, code=ErrorCode.UNSAFE_TEXT)
