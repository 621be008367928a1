"""Views of the help journey: help form, private case page, feedback and check-in answers."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.ratelimit import photo_quota_exceeded, rate_limit_hit, rate_limit_reached
from inquiries.constants import Category, ContactMethod, ErrorCode, Urgency
from inquiries.forms import CheckInAnswerForm, FeedbackForm, HelpRequestForm, ResidentReplyForm
from inquiries.selectors import (
    feedback_get_by_token,
    inquiry_get_by_token,
    inquiry_photo_bytes,
    inquiry_public_thread,
    invitation_get_by_token,
)
from inquiries.services import (
    case_url,
    check_in_answer_submit,
    feedback_submit,
    inquiry_resident_reply,
    inquiry_submit,
    resident_can_reply,
)
from notifications.constants import Channel
from registration.private_access import registration_for_private_access
from registration.selectors import resident_route
from stations.constants import QrTarget
from stations.selectors import station_get_by_code
from stations.shortcuts import station_closed_response
from stations.visits import visit_count_request

PRIVATE_HEADERS = {"X-Robots-Tag": "noindex, nofollow"}


def _private(response):
    for header, value in PRIVATE_HEADERS.items():
        response[header] = value
    return response


def _resident_initial(registration) -> dict:
    resident = registration.resident
    route = resident_route(resident, wechat=False)  # how staff would answer: email or phone
    method = ContactMethod.EMAIL if route and route[0] == Channel.EMAIL else ContactMethod.PHONE
    return {
        "contact_name": resident.full_name,
        "phone": resident.phone,
        "email": resident.email,
        "wechat_id": resident.wechat_id,
        "language": resident.preferred_language,
        "contact_method": method,
    }


def _emergency(form) -> bool:
    """Whether the emergency numbers must be shown prominently (safety or urgent)."""
    data = form.data if form.is_bound else form.initial
    return data.get("category") == Category.SAFETY or data.get("urgency") == Urgency.URGENT


@never_cache
@require_http_methods(["GET", "POST"])
def help_request(request, code):
    """Show and accept the help-request form of the station ``code``."""
    station = station_get_by_code(code)
    if station is None:
        raise Http404
    if not station.is_active:
        return station_closed_response(request, code=station.code)
    language = translation.get_language()
    token = request.POST.get("r") or request.GET.get("r") or ""
    registration = (
        registration_for_private_access(session=request.session, token=token) if token else None
    )
    if registration is not None and registration.station_id != station.pk:
        registration = None  # a link of another station: the resident types their details
    status = 200
    if request.method == "POST":
        address = client_ip(request)
        photo = request.FILES.get("photo")
        limited = rate_limit_reached("help-request", key=address) or (
            photo is not None and photo_quota_exceeded(address=address, size=photo.size)
        )
        # A refused request's photo is never opened; the typed answers are shown again.
        form = HelpRequestForm(request.POST, None if limited else request.FILES, language=language)
        if limited:
            form.is_valid()
            form.add_error(None, ValidationError(ErrorCode.RATE_LIMITED.label, code="rate_limited"))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            submitted = inquiry_submit(
                station=station,
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                urgency=data["urgency"],
                contact_name=data["contact_name"],
                contact_method=data["contact_method"],
                contact_time=data["contact_time"],
                language=data["language"],
                phone=data.get("phone") or "",
                email=data.get("email") or "",
                wechat_id=data.get("wechat_id") or "",
                photo=data.get("photo"),
                resident=registration.resident if registration else None,
            )
            rate_limit_hit("help-request", key=address)  # only accepted requests count
            response = redirect("inquiries:case", token=submitted.token)
            response["Location"] += "?new=1"
            return response
        else:
            status = 400
    else:
        initial = _resident_initial(registration) if registration else {}
        initial["r"] = token if registration else ""
        category = request.GET.get("category")
        if category in Category.values:
            initial["category"] = category
        form = HelpRequestForm(initial=initial, language=language)
        visit_count_request(request, station.code, purpose=QrTarget.HELP)
    context = {
        "station": station,
        "form": form,
        "emergency": _emergency(form),
        "linked": registration is not None,
    }
    return _private(render(request, "inquiries/help_form.html", context, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def case(request, token):
    """The resident's private case page: status, replies and a reply form."""
    inquiry = inquiry_get_by_token(token=token)
    if inquiry is None:
        raise Http404
    status = 200
    form = ResidentReplyForm()
    if request.method == "POST":
        form = ResidentReplyForm(request.POST)
        if form.is_valid():
            try:
                inquiry_resident_reply(inquiry=inquiry, body=form.cleaned_data["body"])
            except ValidationError as error:
                form.add_error(None, error)
                status = 410 if error.code == ErrorCode.CASE_CLOSED else 400
            else:
                return redirect("inquiries:case", token=token)
        else:
            status = 400
        inquiry.refresh_from_db()
    context = {
        "inquiry": inquiry,
        "station": inquiry.station,
        "replies": inquiry_public_thread(inquiry=inquiry).only(
            "body", "created_at", "author_kind", "kind"
        ),
        "form": form,
        "can_reply": resident_can_reply(inquiry),
        "just_submitted": request.GET.get("new") == "1",
        "case_url": case_url(token),
        "token": token,
        "emergency": inquiry.category == Category.SAFETY or inquiry.urgency == Urgency.URGENT,
    }
    return _private(render(request, "inquiries/case.html", context, status=status))


@never_cache
def case_photo(request, token):
    """Send the case's photo to the holder of the private link (never publicly)."""
    inquiry = inquiry_get_by_token(token=token)
    if inquiry is None or not inquiry.photo:
        raise Http404
    response = HttpResponse(inquiry_photo_bytes(inquiry=inquiry), content_type="image/jpeg")
    response["Content-Disposition"] = "inline"
    return _private(response)


def _gone(request, *, title: str, text: str, station=None):
    return _private(
        render(
            request,
            "inquiries/gone.html",
            {"title": title, "text": text, "station": station},
            status=410,
        )
    )


@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request, token):
    """Ask whether the help helped (link sent on resolution, valid for a limited time)."""
    request_ = feedback_get_by_token(token=token)
    if request_ is None:
        raise Http404
    inquiry = request_.inquiry
    if request_.answered_at is not None:
        return _gone(
            request,
            title=_("Thank you"),
            text=_("You have already told us how it went. Thank you!"),
            station=inquiry.station,
        )
    if request_.expires_at <= timezone.now():
        return _gone(
            request,
            title=_("This link has expired"),
            text=_("You can still reply on your case page or contact the station."),
            station=inquiry.station,
        )
    status = 200
    form = FeedbackForm()
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                feedback_submit(feedback=request_, **form.cleaned_data)
            except ValidationError as error:
                return _gone(
                    request, title=_("Sorry"), text=error.messages[0], station=inquiry.station
                )
            return _private(
                render(
                    request,
                    "inquiries/feedback_thanks.html",
                    {
                        "inquiry": inquiry,
                        "station": inquiry.station,
                        "helped": form.cleaned_data["helped"],
                    },
                )
            )
        status = 400
    context = {"inquiry": inquiry, "station": inquiry.station, "form": form}
    return _private(render(request, "inquiries/feedback.html", context, status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def check_in(request, token):
    """Answer a check-in round through the personal link (no login)."""
    invitation = invitation_get_by_token(token=token)
    if invitation is None:
        raise Http404
    station = invitation.round.station
    if hasattr(invitation, "answer"):
        return _gone(
            request,
            title=_("You have already answered"),
            text=_("Thank you: your answer has reached the station."),
            station=station,
        )
    if invitation.expires_at <= timezone.now():
        return _gone(
            request,
            title=_("This link has expired"),
            text=_(
                "This check-in round has ended. You can always ask for help on the station page."
            ),
            station=station,
        )
    status = 200
    form = CheckInAnswerForm()
    if request.method == "POST":
        form = CheckInAnswerForm(request.POST)
        if form.is_valid():
            try:
                answer = check_in_answer_submit(invitation=invitation, **form.cleaned_data)
            except ValidationError as error:
                return _gone(request, title=_("Sorry"), text=error.messages[0], station=station)
            return _private(
                render(
                    request,
                    "inquiries/check_in_thanks.html",
                    {"station": station, "answer": answer},
                )
            )
        status = 400
    context = {
        "invitation": invitation,
        "round": invitation.round,
        "intro": invitation.round.intro(translation.get_language()),
        "station": station,
        "form": form,
    }
    return _private(render(request, "inquiries/check_in.html", context, status=status))
