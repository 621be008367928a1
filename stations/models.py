"""Expat service stations, their texts in each language, and their staff."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from core.languages import language_choices, language_codes
from stations.constants import (
    BILLBOARD_DEFAULT_LANGUAGES,
    BILLBOARD_MAX_LANGUAGES,
    STATION_CODE_REGEX,
    MembershipRole,
    QrTarget,
)

station_code_validator = RegexValidator(
    STATION_CODE_REGEX,
    _("Use lowercase letters, digits and hyphens (for example “shipai” or “tianhe-2”)."),
    code="invalid_station_code",
)


STATION_CODE_IMMUTABLE_MESSAGE = _(
    "The station code cannot be changed: it is printed on billboards and in QR codes."
)


def billboard_languages_default() -> list[str]:
    """Return the languages a new station's billboards print (Chinese and English)."""
    return list(BILLBOARD_DEFAULT_LANGUAGES)


def validate_billboard_languages(value) -> None:
    """
    Accept a list of one to ``BILLBOARD_MAX_LANGUAGES`` different languages of the site.

    More would shrink the text of an A4 billboard below what can be read from a step away
    (``tests/stations/test_billboards.py`` measures it); the layout scales with the page,
    so what is legible at A4 is legible at A3 and A2.
    """
    if not isinstance(value, list) or not value:
        raise ValidationError(
            _("Choose at least one language for the billboards."), code="billboard_no_language"
        )
    unknown = [code for code in value if code not in language_codes()]
    if unknown or len(set(value)) != len(value):
        raise ValidationError(
            _("Choose languages from the list."), code="billboard_unknown_language"
        )
    if len(value) > BILLBOARD_MAX_LANGUAGES:
        raise ValidationError(
            ngettext_lazy(
                "A billboard holds at most %(limit)d language: more would be too small to "
                "read on A4 paper.",
                "A billboard holds at most %(limit)d languages: more would be too small to "
                "read on A4 paper.",
                "limit",
            ),
            code="billboard_too_many_languages",
            params={"limit": BILLBOARD_MAX_LANGUAGES},
        )


class StationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def with_texts(self):
        return self.prefetch_related("texts")


class Station(models.Model):
    """
    A street-level expat service station.

    Its ``code`` is printed on billboards (``/s/<code>/``) and never changes once created.
    Names, addresses and opening hours live in ``StationText``, one row per language, so
    that adding a language adds rows, not columns.
    """

    code = models.CharField(
        _("station code"),
        max_length=32,
        unique=True,
        validators=[station_code_validator],
        help_text=_(
            "Short code printed on billboards and in QR codes, e.g. “shipai”. "
            "It cannot be changed once the station is created."
        ),
    )
    district = models.CharField(
        _("district"), max_length=100, blank=True, help_text=_("District of the city.")
    )
    phone = models.CharField(
        _("phone"), max_length=40, blank=True, help_text=_("Phone number of the counter.")
    )
    email = models.EmailField(_("email"), blank=True, help_text=_("Email address of the station."))
    wechat_id = models.CharField(
        _("WeChat ID"), max_length=64, blank=True, help_text=_("WeChat ID residents can add.")
    )
    languages_spoken = models.CharField(
        _("languages spoken"),
        max_length=200,
        blank=True,
        help_text=_("Languages spoken at the counter, e.g. “中文, English, Français”."),
    )
    billboard_languages = models.JSONField(
        _("billboard languages"),
        default=billboard_languages_default,
        validators=[validate_billboard_languages],
        help_text=_(
            "Languages printed on this station's billboards and poster, in the order of the "
            "site's languages."
        ),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive stations keep their page, which points to the nearest active ones."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = StationQuerySet.as_manager()

    class Meta:
        verbose_name = _("expat service station")
        verbose_name_plural = _("expat service stations")
        ordering = ["code"]
        permissions = [("view_all_stations", _("Can see the data of every station"))]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="station_code_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(code__regex=STATION_CODE_REGEX),
                name="station_code_format",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        if self.code_changed():
            raise ValidationError(STATION_CODE_IMMUTABLE_MESSAGE, code="code_immutable")
        super().save(*args, **kwargs)
        self._loaded_code = self.code

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        instance = super().from_db(db, field_names, values, *args, **kwargs)
        # Remember the code as loaded: it is printed on billboards and must never change.
        instance._loaded_code = instance.__dict__.get("code")
        return instance

    def code_changed(self) -> bool:
        """Return whether the code differs from the one stored in the database."""
        loaded = getattr(self, "_loaded_code", None)
        return self.pk is not None and loaded is not None and loaded != self.code

    def clean(self):
        super().clean()
        if self.code_changed():
            raise ValidationError(
                {"code": ValidationError(STATION_CODE_IMMUTABLE_MESSAGE, code="code_immutable")}
            )

    def text(self, language: str | None = None) -> "StationText | None":
        """Return the texts in ``language`` (default: the active one), else the best fallback."""
        language = language or translation.get_language() or settings.LANGUAGE_CODE
        texts = list(self.texts.all())  # uses prefetch_related("texts") when present
        if not texts:
            return None
        by_language = {t.language: t for t in texts}
        for candidate in (language, language.split("-")[0], settings.LANGUAGE_CODE):
            if candidate in by_language:
                return by_language[candidate]
        return texts[0]

    def billboard_language_codes(self) -> list[str]:
        """Return the billboard's languages that the site still offers, in the site's order."""
        chosen = set(self.billboard_languages or ())
        codes = [code for code in language_codes() if code in chosen]
        return codes or [code for code in language_codes() if code in BILLBOARD_DEFAULT_LANGUAGES]

    @property
    def name(self) -> str:
        text = self.text()
        return text.name if text else self.code

    def names(self) -> list[tuple[str, str]]:
        """Return ``(language, name)`` for every language the station has a name in."""
        order = language_codes()
        texts = sorted(
            self.texts.all(),
            key=lambda t: order.index(t.language) if t.language in order else len(order),
        )
        return [(t.language, t.name) for t in texts]


class StationText(models.Model):
    """The name, address and opening hours of a station in one language."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="texts",
        verbose_name=_("station"),
    )
    language = models.CharField(
        _("language"),
        max_length=15,
        choices=language_choices,
        help_text=_("Language of these texts."),
    )
    name = models.CharField(
        _("name"), max_length=200, help_text=_("Name of the station in this language.")
    )
    address = models.TextField(
        _("address"), blank=True, help_text=_("Street address in this language.")
    )
    opening_hours = models.TextField(
        _("opening hours"),
        blank=True,
        help_text=_("Opening hours in this language, one line per period."),
    )
    area_served = models.TextField(
        _("area served"),
        blank=True,
        help_text=_("Streets or neighbourhoods the station serves, in this language."),
    )
    address_help = models.TextField(
        _("address format help"),
        blank=True,
        help_text=_(
            "Shown under the address field of the registration form: the expected format "
            "of an address in this station's area."
        ),
    )

    class Meta:
        verbose_name = _("station text")
        verbose_name_plural = _("station texts")
        ordering = ["station", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "language"], name="station_text_per_language"
            )
        ]

    def __str__(self):
        return f"{self.station.code} [{self.language}] {self.name}"


class StationMembership(models.Model):
    """A user's work at a station, as officer or manager. It decides what they may see."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("station"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="station_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(
        _("role"),
        max_length=16,
        choices=MembershipRole.choices,
        default=MembershipRole.OFFICER,
        help_text=_("Managers also manage staff, billboards and check-in rounds."),
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("station membership")
        verbose_name_plural = _("station memberships")
        ordering = ["station", "user"]
        constraints = [
            models.UniqueConstraint(fields=["station", "user"], name="one_membership_per_station")
        ]
        indexes = [models.Index(fields=["user", "station"], name="membership_user_station")]

    def __str__(self):
        return f"{self.user} @ {self.station.code} ({self.get_role_display()})"


class StationVisitDay(models.Model):
    """
    How many times a station's page, or a form its QR codes open, was opened on one day:
    an aggregate per purpose (``QrTarget``), nothing personal.

    Page views are counted in memory and the cache and added here in batches (see
    ``stations.visits``), so a page view never writes the database.
    """

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="visit_days",
        verbose_name=_("station"),
    )
    day = models.DateField(_("day"), help_text=_("Local date of the visits."))
    purpose = models.CharField(
        _("page opened"), max_length=10, choices=QrTarget.choices, default=QrTarget.STATION
    )
    count = models.PositiveIntegerField(
        _("visits"), default=0, help_text=_("Number of times the station page was opened.")
    )

    class Meta:
        verbose_name = _("daily station page visits")
        verbose_name_plural = _("daily station page visits")
        ordering = ["-day", "station"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "day", "purpose"], name="one_visit_count_per_day_and_purpose"
            )
        ]

    def __str__(self):
        return f"{self.station.code} {self.day} {self.purpose}: {self.count}"
