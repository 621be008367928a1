"""
The counter in the admin (窗口现场登记): register a walk-in through the public form's
service, print the slip with the private link, correct a registration, end a stay, send a
new private link, print the official record and export the filtered list as XLSX.

Each view checks the permission, finds the registration in the user's scope (another
station's answers 404) and calls one service.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from privacy.constants import AuditAction
from privacy.services import audit_record
from registration import forms, services
from registration.constants import CONSENT_NOTICE_VERSION, RegistrationSource
from registration.official_record import official_record_pdf, official_xlsx
from registration.views.attempts import _attempt, _attempt_forget, _photo_form, _photos
from stations.qr import qr_svg
from stations.selectors import stations_for_user

# The raw link of a walk-in, kept in the officer's session only until the slip is shown.
SLIP_SESSION_KEY = "registration_counter_slip"
COUNTER_PERMISSION = "registration.review_registration"


def counter_stations(user):
    """Return the stations where ``user`` works the counter: their own, active ones."""
    return (
        stations_for_user(user)
        .filter(memberships__user=user, is_active=True)
        .distinct()
        .order_by("code")
    )


class RegistrationCounterMixin:
    """The counter's pages of ``RegistrationAdmin``."""

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path("walk-in/", view(self.walk_in_view), name=f"{info}_walk_in"),
            path("<int:object_id>/slip/", view(self.slip_view), name=f"{info}_slip"),
            path("<int:object_id>/correct/", view(self.correct_view), name=f"{info}_correct"),
            path("<int:object_id>/end/", view(self.end_view), name=f"{info}_end"),
            path("<int:object_id>/send-link/", view(self.send_link_view), name=f"{info}_send_link"),
            path("<int:object_id>/record.pdf", view(self.record_view), name=f"{info}_record"),
            path("export.xlsx", view(self.export_xlsx_view), name=f"{info}_export_xlsx"),
            *super().get_urls(),
        ]

    def _require_counter(self, request) -> None:
        if not request.user.has_perm(COUNTER_PERMISSION):
            raise PermissionDenied

    def _scoped(self, request, object_id):
        return get_object_or_404(self.get_queryset(request), pk=object_id)

    def _page(self, request, template, title, *, status=200, **context):
        return TemplateResponse(
            request,
            f"admin/registration/registration/{template}",
            {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context},
            status=status,
        )

    def _change_url(self, obj) -> str:
        return reverse("admin:registration_registration_change", args=[obj.pk])

    # -- walk-in ------------------------------------------------------------------
    def walk_in_view(self, request):
        """Register a resident at the desk through the public form's service."""
        self._require_counter(request)
        stations = counter_stations(request.user)
        if not stations.exists():
            raise PermissionDenied
        flow = f"counter:{request.user.pk}"
        if request.method != "POST":
            form = forms.CounterRegistrationForm(
                stations=stations,
                initial={
                    "station": stations.first(),
                    "preferred_language": translation.get_language(),
                    "preferred_channel": "sms",
                    "document_type": "passport",
                },
            )
            return self._walk_in_page(request, form, None)
        # The form checks the posted station; the attempt only keeps the photos meanwhile.
        attempt = _attempt(request, flow, station=stations.first())
        # Counted per officer, not per address: a station's counter and its visitors' phones
        # often share one address, and the counter must not use up their quota.
        form = _photo_form(
            request,
            forms.CounterRegistrationForm,
            attempt,
            stations=stations,
            quota_key=f"staff:{request.user.pk}",
        )
        if not form.is_valid():
            return self._walk_in_page(request, form, attempt, status=400)
        data = form.service_data()
        data.pop("station", None)
        data["consent_notice_version"] = CONSENT_NOTICE_VERSION
        data["consent_given_at"] = timezone.now()
        submitted = services.registration_submit(
            station=form.cleaned_data["station"],
            data=data,
            attempt=attempt,
            language=data["preferred_language"],
            source=RegistrationSource.COUNTER,
            actor=request.user,
        )
        _attempt_forget(request, flow)
        request.session[SLIP_SESSION_KEY] = {
            "id": submitted.registration.pk,
            "token": submitted.token,
        }
        return HttpResponseRedirect(
            reverse("admin:registration_registration_slip", args=[submitted.registration.pk])
        )

    def _walk_in_page(self, request, form, attempt, *, status=200):
        return self._page(
            request,
            "walk_in.html",
            _("Register a walk-in"),
            form=form,
            photos=_photos(attempt),
            notice_version=CONSENT_NOTICE_VERSION,
            status=status,
        )

    def slip_view(self, request, object_id):
        """
        Show the slip the resident takes home: reference, private link and its QR code. The
        link is shown once (it is in the session only until this page); a reload shows the
        slip without it.
        """
        self._require_counter(request)
        obj = self._scoped(request, object_id)
        info = request.session.get(SLIP_SESSION_KEY) or {}
        token = None
        if info.get("id") == obj.pk:
            token = info.get("token")
            del request.session[SLIP_SESSION_KEY]
        link = services.private_link_url(token) if token else ""
        return self._page(
            request,
            "slip.html",
            _("Slip for the resident"),
            original=obj,
            link=link,
            qr=mark_safe(qr_svg(link).decode()) if link else "",  # noqa: S308 - escaped by qr_svg
            change_url=self._change_url(obj),
        )

    # -- corrections and decisions --------------------------------------------------
    def correct_view(self, request, object_id):
        """Correct fields of a registration and its resident."""
        self._require_counter(request)
        obj = self._scoped(request, object_id)
        form = forms.StaffCorrectionForm(request.POST or None, registration=obj)
        if request.method == "POST" and form.is_valid() and not form.changes():
            self.message_user(request, _("Nothing to correct: no field was changed."))
            return HttpResponseRedirect(self._change_url(obj))
        if request.method == "POST" and form.is_valid():
            try:
                services.registration_staff_correct(
                    registration=obj,
                    actor=request.user,
                    changes=form.changes(),
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("Corrected. The resident has been told."))
            return HttpResponseRedirect(self._change_url(obj))
        return self._page(
            request,
            "staff_form.html",
            _("Correct %(reference)s") % {"reference": obj.reference},
            form=form,
            original=obj,
            change_url=self._change_url(obj),
            status=400 if form.is_bound else 200,
        )

    def end_view(self, request, object_id):
        """End a stay, with the reason the resident reads."""
        self._require_counter(request)
        obj = self._scoped(request, object_id)
        form = forms.StaffMessageForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.registration_staff_end(
                    registration=obj, actor=request.user, message=form.cleaned_data["message"]
                )
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, _("The stay has ended. The resident has been told."))
            return HttpResponseRedirect(self._change_url(obj))
        return self._page(
            request,
            "staff_form.html",
            _("End the stay %(reference)s") % {"reference": obj.reference},
            form=form,
            original=obj,
            change_url=self._change_url(obj),
            status=400 if form.is_bound else 200,
        )

    def send_link_view(self, request, object_id):
        """Send a new private link to the contact on file (POST)."""
        self._require_counter(request)
        obj = self._scoped(request, object_id)
        if request.method != "POST":
            return self._page(
                request,
                "staff_form.html",
                _("Send a new private link"),
                original=obj,
                change_url=self._change_url(obj),
                explanation=_(
                    "A new private link goes to the phone or email the resident gave. The old "
                    "link works until the new one is opened."
                ),
            )
        try:
            services.registration_staff_link_send(registration=obj, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, _("A new private link was sent to the contact on file."))
        return HttpResponseRedirect(self._change_url(obj))

    # -- the official record --------------------------------------------------------
    def record_view(self, request, object_id):
        """Download the 境外人员住宿登记表 of a registration (audited: it holds numbers)."""
        self._require_counter(request)
        obj = self._scoped(request, object_id)
        if obj.anonymised_at is not None:
            raise Http404
        audit_record(
            user=request.user,
            action=AuditAction.EXPORT,
            obj=obj,
            station=obj.station,
            detail="official record printed",
        )
        response = HttpResponse(official_record_pdf(obj), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="record-{obj.reference}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response

    def export_queryset(self, request):
        # The officer column reads both users: one join, not two queries a row.
        return (
            super()
            .export_queryset(request)
            .select_related("resident", "station", "decided_by", "consent_recorded_by")
        )

    def export_xlsx_view(self, request):
        """The changelist's export (same rows and columns as the CSV) as XLSX."""
        rows, refused = self.export_rows(request)
        if refused is not None:
            return refused
        content = official_xlsx(rows)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{self.export_filename}-{stamp}.xlsx"'
        )
        response["Cache-Control"] = "private, no-store"
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_walk_in": request.user.has_perm(COUNTER_PERMISSION)
            and counter_stations(request.user).exists(),
        }
        return super().changelist_view(request, extra_context=extra_context)
