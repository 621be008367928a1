"""Choices, codes and fixed values of the registration app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from privacy.constants import PRIVACY_NOTICE_VERSION

# Version of the privacy notice and consent text residents agree to (PIPL art. 29): the
# privacy app's notice version. Each registration keeps the version it was given under.
CONSENT_NOTICE_VERSION = PRIVACY_NOTICE_VERSION


class Sex(models.TextChoices):
    FEMALE = "female", pgettext_lazy("sex", "female")
    MALE = "male", pgettext_lazy("sex", "male")


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("passport")
    TRAVEL_DOCUMENT = "travel_document", _("travel document")
    OTHER = "other", pgettext_lazy("travel document type", "other document")


class VisaType(models.TextChoices):
    L = "L", _("L visa (tourism)")
    M = "M", _("M visa (business)")
    F = "F", _("F visa (exchanges, visits)")
    Q1 = "Q1", _("Q1 visa (family reunion, long stay)")
    Q2 = "Q2", _("Q2 visa (family visit, short stay)")
    S1 = "S1", _("S1 visa (family of a foreign resident, long stay)")
    S2 = "S2", _("S2 visa (family of a foreign resident, short stay)")
    X1 = "X1", _("X1 visa (study, long term)")
    X2 = "X2", _("X2 visa (study, short term)")
    Z = "Z", _("Z visa (work)")
    J1 = "J1", _("J1 visa (resident journalist)")
    J2 = "J2", _("J2 visa (journalist, short visit)")
    C = "C", _("C visa (crew)")
    G = "G", _("G visa (transit)")
    D = "D", _("D visa (permanent residence)")
    R = "R", _("R visa (talent)")
    RESIDENCE_PERMIT = "residence_permit", _("residence permit")
    VISA_FREE = "visa_free", _("visa-free entry")
    OTHER = "other", pgettext_lazy("visa type", "other")


class StayReason(models.TextChoices):
    STUDY = "study", _("study")
    WORK = "work", _("work")
    BUSINESS = "business", _("business")
    FAMILY = "family", _("family")
    VISIT = "visit", _("visit")
    OTHER = "other", pgettext_lazy("reason for stay", "other")


class AccommodationType(models.TextChoices):
    RENTED = "rented", _("rented")
    OWN = "own", _("own property")
    RELATIVES = "relatives", _("with relatives or friends")
    DORMITORY = "dormitory", _("school dormitory")


class RegistrationStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("registration status", "submitted")
    REGISTERED = "registered", pgettext_lazy("registration status", "registered")
    CORRECTION_REQUESTED = (
        "correction_requested",
        pgettext_lazy("registration status", "correction requested"),
    )
    RESUBMITTED = "resubmitted", pgettext_lazy("registration status", "resubmitted")
    REJECTED = "rejected", pgettext_lazy("registration status", "rejected")
    ENDED = "ended", pgettext_lazy("registration status", "ended")


S = RegistrationStatus
# The only status changes the services allow. Anything else raises TransitionError.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.REGISTERED, S.CORRECTION_REQUESTED, S.REJECTED, S.ENDED}),
    S.CORRECTION_REQUESTED: frozenset({S.RESUBMITTED, S.REJECTED, S.ENDED}),
    S.RESUBMITTED: frozenset({S.REGISTERED, S.CORRECTION_REQUESTED, S.REJECTED, S.ENDED}),
    # A registered stay goes back to the staff queue when the resident reports a change
    # staff must confirm (renewed visa, new travel document).
    S.REGISTERED: frozenset({S.RESUBMITTED, S.ENDED}),
    S.REJECTED: frozenset(),
    S.ENDED: frozenset(),
}
# A registration in one of these states is a current stay at the station.
ACTIVE_STATUSES = (S.SUBMITTED, S.REGISTERED, S.CORRECTION_REQUESTED, S.RESUBMITTED)
# Waiting for a decision of the station's staff.
WAITING_STATUSES = (S.SUBMITTED, S.RESUBMITTED)
# A visa or permit ending within this many days is "expiring" (dashboard, admin queue;
# the queue's label says 30 days).
VISA_EXPIRING_DAYS = 30


class Decision(models.TextChoices):
    """A reviewer's decision on a registration; the value is part of the review page's URL."""

    REGISTERED = "registered", _("Mark registered")
    CORRECTION = "correction", _("Request correction")
    REJECT = "reject", _("Reject")


# The status each decision moves a registration to (allowed by TRANSITIONS or refused).
DECISION_STATUSES: dict[str, str] = {
    Decision.REGISTERED: S.REGISTERED,
    Decision.CORRECTION: S.CORRECTION_REQUESTED,
    Decision.REJECT: S.REJECTED,
}
# The decisions the resident must be told why: staff write a message with them.
DECISIONS_WITH_MESSAGE = (Decision.CORRECTION, Decision.REJECT)


class RegistrationQueue(models.TextChoices):
    """The saved queues of the day's work: the admin list's ``?queue=``, the dashboard's links."""

    WAITING = "waiting", _("waiting, oldest first")
    OVERDUE = "overdue", _("waiting past the 24-hour deadline")
    CORRECTIONS = "corrections", _("correction requested")
    EXPIRING = "expiring", _("visa or permit expiring within 30 days")
    MINE = "mine", _("decided by me")


# The waiting queues list the nearest (or most overdue) deadline first.
QUEUES_BY_DEADLINE = (RegistrationQueue.WAITING, RegistrationQueue.OVERDUE)


class EndReason(models.TextChoices):
    DEPARTED = "departed", _("the resident left")
    MOVED = "moved", _("the resident moved to a new address")
    REENTERED = "reentered", _("registered again after a trip abroad")
    VISA_EXPIRED = "visa_expired", _("the visa or residence permit expired without renewal")
    STAFF = "staff", _("ended by staff")


class RegistrationSource(models.TextChoices):
    """How a registration reached the station."""

    FORM = "form", _("public form")
    # 窗口现场登记: staff fill in the form with the resident at the desk.
    COUNTER = "counter", _("registered at the counter")


class DocumentKind(models.TextChoices):
    PASSPORT_PAGE = "passport_page", _("passport information page")
    VISA_PAGE = "visa_page", _("visa or residence permit page")
    ENTRY_STAMP = "entry_stamp", _("arrival record (entry stamp)")
    LEASE = "lease", _("lease or accommodation proof")


REQUIRED_DOCUMENT_KINDS = (
    DocumentKind.PASSPORT_PAGE,
    DocumentKind.VISA_PAGE,
    DocumentKind.ENTRY_STAMP,
)


class AmendmentKind(models.TextChoices):
    SUBMITTED = "submitted", _("registration submitted")
    ADDRESS = "address", _("moved to a new address")
    VISA = "visa", _("renewed visa or residence permit")
    TRAVEL_DOCUMENT = "travel_document", _("new travel document")
    CONTACT = "contact", _("contact details changed")
    DEPARTED = "departed", _("left")
    RESUBMITTED = "resubmitted", _("correction sent")
    REGISTERED = "registered", _("marked registered by staff")
    CORRECTION_REQUESTED = "correction_requested", _("correction requested by staff")
    REJECTED = "rejected", _("rejected by staff")
    ENDED = "ended", _("registration ended")
    LINK_RESENT = "link_resent", _("private link sent again")
    STAFF_CORRECTED = "staff_corrected", _("corrected by staff")
    DELETION_REQUESTED = "deletion_requested", _("deletion of personal data requested")
    ERASED = "erased", _("personal data erased")
    REENTRY = "reentry", _("back from a trip abroad (re-entry)")
    DEPARTURE = "departure", _("expected departure changed")


class ErrorCode(models.TextChoices):
    """Stable codes of validation and service errors; tests assert these, not wording."""

    BIRTH_DATE_FUTURE = "birth_date_future", _("The date of birth must be in the past.")
    BIRTH_DATE_IMPLAUSIBLE = "birth_date_implausible", _("Please check the date of birth.")
    DOCUMENT_NUMBER_FORMAT = (
        "document_number_format",
        _("Use only letters and digits, without spaces or punctuation."),
    )
    DOCUMENT_EXPIRED = "document_expired", _("This travel document has expired.")
    VISA_BEFORE_ENTRY = (
        "visa_before_entry",
        _("The visa or permit must be valid until a date after your entry into China."),
    )
    ENTRY_FUTURE = "entry_future", _("The date of entry cannot be in the future.")
    VISA_NUMBER_REQUIRED = (
        "visa_number_required",
        _("Enter the number of your visa or residence permit."),
    )
    ARRIVAL_BEFORE_ENTRY = (
        "arrival_before_entry",
        _("You cannot arrive at this address before entering China."),
    )
    ARRIVAL_FUTURE = "arrival_future", _("The time of arrival cannot be in the future.")
    DEPARTURE_BEFORE_ARRIVAL = (
        "departure_before_arrival",
        _("The expected departure must be after your arrival."),
    )
    PHONE_INVALID = "phone_invalid", _("Enter a valid mobile phone number.")
    CONSENT_REQUIRED = "consent_required", _("Your consent is needed to register online.")
    PHOTO_REQUIRED = "photo_required", _("Please add a photo of this document.")
    EMAIL_REQUIRED_FOR_EMAIL = (
        "email_required",
        _("Enter an email address to receive messages by email."),
    )
    HONEYPOT = "honeypot", _("Your form could not be sent. Please try again.")
    RATE_LIMITED = "rate_limited", _("Too many attempts. Please wait a while and try again.")
    # Images: core.images.ImageError
    PHOTO_QUOTA = (
        "photo_quota",
        _("Too many photos were sent from here. Please wait an hour and try again."),
    )
    # Services
    TRANSITION_NOT_ALLOWED = (
        "transition_not_allowed",
        _("This change of status is not possible."),
    )
    NOT_ACTIVE = "not_active", _("This registration has ended and cannot be changed.")
    DEPARTURE_FUTURE = "departure_future", _("The date you left cannot be in the future.")
    DEPARTURE_BEFORE_STAY = (
        "departure_before_stay",
        _("The date you left cannot be before your arrival."),
    )
    VALID_UNTIL_NOT_LATER = (
        "valid_until_not_later",
        _("The renewed visa or permit must be valid until a later date."),
    )
    ENTRY_NOT_AFTER_PREVIOUS = (
        "entry_not_after_previous",
        _("The new date of entry must be after the entry of your previous registration."),
    )
    DEPARTURE_AFTER_VISA = (
        "departure_after_visa",
        _("Your visa or permit ends before this date. Renew it first, then stay longer."),
    )
    ADDRESS_UNCHANGED_REQUIRED = (
        "address_unchanged_required",
        _("If you now live somewhere else, use “I moved to a new address” instead."),
    )
    MESSAGE_REQUIRED = "message_required", _("Please write a message to the resident.")
    MATCH_NOT_SUGGESTED = (
        "match_not_suggested",
        _("This record cannot be confirmed as the same person."),
    )
    ERASE_ACTIVE = (
        "erase_active",
        _("End the registration first: an active registration must be kept by law."),
    )
    ERASE_NOT_REQUESTED = (
        "erase_not_requested",
        _(
            "The resident has not asked for deletion: personal data is erased only at the "
            "resident's request (through their private link) or by the retention rules."
        ),
    )


class MrzNote(models.TextChoices):
    """Why a passport photo filled fewer fields than it could; shown to the resident."""

    NOT_AN_IMAGE = (
        "not_an_image",
        _("We could not open this photo to read it. Please type the details yourself."),
    )
    NOT_FOUND = (
        "not_found",
        _(
            "We could not read the machine-readable zone (the lines with <<< at the bottom of "
            "the page) in this photo. Please type the details yourself, or try another photo "
            "in good light."
        ),
    )
    CHECK_FAILED = (
        "check_failed",
        _(
            "Part of the machine-readable zone could not be read with certainty (glare, blur "
            "or shadow?). We left those fields empty: please type them."
        ),
    )
    NATIONALITY_NOT_LISTED = (
        "nationality_not_listed",
        _("The nationality in your passport is not in our list: please choose yours."),
    )
    SEX_NOT_LISTED = (
        "sex_not_listed",
        _("Your passport does not state a sex we can choose: please choose it yourself."),
    )
    NOT_A_PASSPORT = (
        "not_a_passport",
        _(
            "This looks like an identity or residence card, not a passport: we filled in "
            "only your personal details. Please type your passport's number and expiry date."
        ),
    )
    UNAVAILABLE = (
        "unavailable",
        _("Reading passports is not available right now. Please type the details yourself."),
    )


class PassportReadingStatus(models.TextChoices):
    """Where the reading of a form attempt's passport photo stands."""

    NONE = "", pgettext_lazy("passport reading", "not requested")
    PENDING = "pending", pgettext_lazy("passport reading", "reading")
    DONE = "done", pgettext_lazy("passport reading", "read")
