"""
Writes of the staff workspace: two-step sign-in.

A staff member's first authenticator app is enrolled only after an enrolment code that a
manager or administrator issued (``enrolment_code_issue``) is proven
(``enrolment_code_redeem``); confirming the app with one of its codes
(``twofactor_enrolment_confirm``) also gives recovery codes. A lost device is reset by a
manager or administrator (``twofactor_reset``). Who may act for whom is one selector:
``workspace.selectors.staff_signin_for_user``.
"""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy.constants import AuditAction
from privacy.services import audit_record
from workspace.codes import enrolment_code_hash, enrolment_code_new
from workspace.constants import (
    AUTHENTICATOR_DEVICE_NAME,
    ENROLMENT_CODE_ERRORS,
    ENROLMENT_CODE_TRIES,
    RECOVERY_CODE_COUNT,
    RECOVERY_DEVICE_NAME,
)
from workspace.models import EnrolmentCode
from workspace.selectors import stations_of_staff_member, user_may_manage_signin_of


def _require_may_manage(by, user) -> None:
    # ``by=None`` is the operator on the server (manage.py otp_enroll).
    if by is not None and not user_may_manage_signin_of(by, user):
        raise PermissionDenied


def _audit(*, by, action: str, user, detail: str = "") -> None:
    """Record ``action`` on ``user``'s sign-in for every station they work at."""
    stations = list(stations_of_staff_member(staff_member=user)) or [None]
    for station in stations:
        audit_record(user=by, action=action, obj=user, station=station, detail=detail)


def _lock_user(user):
    # Serialises every sign-in write of one user (issue, redeem, reset).
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def _code_issue(*, user, by) -> tuple[str, EnrolmentCode]:
    EnrolmentCode.objects.filter(user=user, used_at__isnull=True).delete()
    raw = enrolment_code_new()
    now = timezone.now()
    code = EnrolmentCode.objects.create(
        user=user,
        code_hash=enrolment_code_hash(raw),
        issued_by=by,
        issued_at=now,
        expires_at=now + datetime.timedelta(hours=settings.LINLI_2FA_ENROLMENT_CODE_HOURS),
    )
    return raw, code


def enrolment_code_issue(*, user, by, detail: str = "") -> tuple[str, EnrolmentCode]:
    """
    Issue a new enrolment code for ``user``, voiding any open one; return the raw code (to
    be shown once) and its row. Refuse (``ValidationError`` "enrolled") a user who already
    has an authenticator app: that is a reset.
    """
    _require_may_manage(by, user)
    with transaction.atomic():
        user = _lock_user(user)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise ValidationError(ENROLMENT_CODE_ERRORS["enrolled"], code="enrolled")
        raw, code = _code_issue(user=user, by=by)
        _audit(by=by, action=AuditAction.SIGNIN_CODE, user=user, detail=detail)
    return raw, code


def twofactor_reset(*, user, by, detail: str = "") -> tuple[str, EnrolmentCode]:
    """
    Remove ``user``'s authenticator apps and recovery codes (a lost or new phone) and issue
    a new enrolment code; return it like ``enrolment_code_issue``. A session verified with
    a removed device is no longer verified.
    """
    _require_may_manage(by, user)
    with transaction.atomic():
        user = _lock_user(user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        raw, code = _code_issue(user=user, by=by)
        _audit(by=by, action=AuditAction.SIGNIN_RESET, user=user, detail=detail)
    return raw, code


def enrolment_code_redeem(*, user, code: str) -> TOTPDevice:
    """
    Prove the enrolment ``code`` for ``user``: use it up and return a new, unconfirmed
    authenticator device whose secret may now be shown to this session.

    Raise ``ValidationError`` with code "invalid", "expired", "used" or "enrolled". A wrong
    code counts against the user's open codes, which are void after a few.
    """
    hashed = enrolment_code_hash(code)
    now = timezone.now()
    error, device = None, None
    # Failed tries must be committed, so the refusal is raised after the block.
    with transaction.atomic():
        user = _lock_user(user)
        match = (
            EnrolmentCode.objects.filter(user=user, code_hash=hashed).first() if hashed else None
        )
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            error = "enrolled"
        elif match is None:
            still_open = EnrolmentCode.objects.filter(user=user, used_at__isnull=True)
            still_open.update(failed_attempts=F("failed_attempts") + 1)
            still_open.filter(failed_attempts__gte=ENROLMENT_CODE_TRIES).delete()
            error = "invalid"
        elif match.used_at is not None:
            error = "used"
        elif match.expires_at <= now:
            error = "expired"
        else:
            match.used_at = now
            match.save(update_fields=["used_at"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            device = TOTPDevice.objects.create(
                user=user, name=AUTHENTICATOR_DEVICE_NAME, confirmed=False
            )
    if error is not None:
        raise ValidationError(ENROLMENT_CODE_ERRORS[error], code=error)
    return device


def _recovery_codes_replace(*, user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def twofactor_enrolment_confirm(*, device: TOTPDevice, token: str) -> list[str] | None:
    """
    Confirm the new authenticator ``device`` with a ``token`` from the app; return the
    user's new recovery codes (to be shown once), or ``None`` if the token is wrong.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if device is None or device.confirmed or not device.verify_token(token):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return _recovery_codes_replace(user=device.user)


def twofactor_device_create(*, user, replace: bool = False) -> tuple[TOTPDevice, list[str]]:
    """
    Give ``user`` a confirmed authenticator device at once, with recovery codes: the
    operator's way on the server (``manage.py otp_enroll --device``). Refuse
    (``ValidationError`` "enrolled") a user who has one, unless ``replace``.
    """
    with transaction.atomic():
        user = _lock_user(user)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not replace:
            raise ValidationError(ENROLMENT_CODE_ERRORS["enrolled"], code="enrolled")
        TOTPDevice.objects.filter(user=user).delete()
        EnrolmentCode.objects.filter(user=user, used_at__isnull=True).delete()
        device = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_DEVICE_NAME, confirmed=True
        )
        codes = _recovery_codes_replace(user=user)
        _audit(by=None, action=AuditAction.SIGNIN_RESET, user=user, detail="manage.py otp_enroll")
    return device, codes


def token_normalise(token: str) -> str:
    """Return a typed code without spaces and hyphens, recovery codes in lower case."""
    return (token or "").replace(" ", "").replace("-", "").lower()


def twofactor_verify(*, user, token: str) -> Device | None:
    """
    Return the device of ``user`` that accepts ``token`` — a code of their authenticator
    app, or a recovery code, which is used up — or ``None``.

    Digits go to the app only and anything else to the recovery codes only, so that an
    app code never counts as a wrong recovery code in django-otp's throttling.
    """
    token = token_normalise(token)
    if not token:
        return None
    model = TOTPDevice if token.isdigit() else StaticDevice
    for device in model.objects.devices_for_user(user, confirmed=True):
        verified = verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None
