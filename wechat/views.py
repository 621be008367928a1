"""
A resident's WeChat on their pages: linking it with consent, unlinking it, and the
official account's "My registration" menu entry (docs/identity.md, "WeChat binding").

Linking is done through the private link only, the proof that this is the resident: the
private page (``wechat.panels``) offers it inside WeChat; the offer is a POST carrying the
link, which starts WeChat's silent web authorisation (``snsapi_base``) with a ``state``
made here (``wechat.oauth``): signed, single-use, and kept in this session with the
resident it is for. The return checks that state before it asks WeChat for the openid, so
a return URL from somebody else's session, an old one or a made-up one links nothing.

"My registration" runs the same authorisation; a linked openid gives this session the
private link's access (``registration.private_access``), an unlinked one a page saying how
to link — nothing about anybody. Everything answers 404 while WeChat is not configured.
"""

import logging

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from registration.private_access import private_access_grant, registration_for_private_access
from registration.selectors import resident_get
from wechat import client, oauth
from wechat.conf import wechat_enabled
from wechat.limits import rate_limited
from wechat.panels import offered_resident_id, prompt_dismiss
from wechat.selectors import binding_for_openid
from wechat.services import binding_create, binding_remove

logger = logging.getLogger(__name__)


def _require_enabled():
    if not wechat_enabled():
        raise Http404


def _private(request, token):
    registration = registration_for_private_access(session=request.session, token=token)
    if registration is None:
        raise Http404
    return registration


def _private_url(token: str) -> str:
    return reverse("registration:private", kwargs={"token": token})


def _problem(request, message: str, status: int):
    return render(request, "wechat/problem.html", {"message": message}, status=status)


def _openid_or_problem(request):
    """Return ``(openid, None)`` for the return's ``code``, or ``(None, problem page)``."""
    code = request.GET.get("code", "")
    if not code or len(code) > 512:
        message = _("WeChat did not confirm your account. Please try again.")
        return None, _problem(request, message, 400)
    try:
        return client.oauth_openid(code), None
    except client.WeChatUnreachable:
        logger.warning("WeChat web authorisation: WeChat unreachable")
        message = _("WeChat cannot be reached at the moment. Please try again in a few minutes.")
        return None, _problem(request, message, 503)
    except client.WeChatError as error:
        # 40029 invalid code, 40163 code already used: a reloaded or old return page.
        logger.info("WeChat web authorisation refused the code (errcode %s)", error.code)
        message = _(
            "This confirmation from WeChat has expired or was already used. Please try again."
        )
        return None, _problem(request, message, 400)


@never_cache
@rate_limited("wechat-bind")
@require_POST
def bind_start(request, token):
    """Record the resident's consent and send them to WeChat to confirm their account."""
    _require_enabled()
    registration = _private(request, token)
    state = oauth.state_issue(
        request.session, oauth.BIND, resident_id=registration.resident_id, token=token
    )
    return HttpResponseRedirect(
        client.oauth_authorize_url(oauth.absolute(reverse("wechat:bind_return")), state)
    )


@never_cache
@rate_limited("wechat-bind")
@require_GET
def bind_return(request):
    """Come back from WeChat: check the state, then link the openid to the resident."""
    _require_enabled()
    pending = oauth.state_take(request.session, oauth.BIND, request.GET.get("state", ""))
    refused = _(
        "This request to link WeChat is not valid any more. Open your private link and try again."
    )
    if pending is None:
        logger.info("WeChat link refused: state missing, old or not this session's")
        return _problem(request, refused, 400)
    if pending["token"]:  # from the private page: the link must still open this resident
        registration = registration_for_private_access(
            session=request.session, token=pending["token"]
        )
        resident = registration.resident if registration is not None else None
        back = _private_url(pending["token"])
    else:  # from the station page: the offer this session's private page made
        offered = offered_resident_id(request.session)
        resident = resident_get(pk=offered) if offered == pending["resident"] else None
        back = pending.get("next") or "/"
    if resident is None or resident.pk != pending["resident"]:
        return _problem(request, refused, 400)
    openid, problem = _openid_or_problem(request)
    if problem is not None:
        return problem
    binding_create(resident=resident, openid=openid, language=translation.get_language())
    logger.info("WeChat linked to resident %s", resident.pk)
    messages.success(
        request,
        _(
            'Your WeChat is linked. The official account\'s menu "My registration" now opens your page.'
        ),
    )
    return HttpResponseRedirect(back)


def _station_next(request) -> str:
    """Return the station page the offer was on (a path of this site), else the home page."""
    target = request.POST.get("next", "")
    if target.startswith("/s/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts=None, require_https=False
    ):
        return target
    return "/"


@never_cache
@rate_limited("wechat-bind")
@require_POST
def bind_start_offered(request):
    """From the station page: link the WeChat of the resident this session was offered."""
    _require_enabled()
    resident_id = offered_resident_id(request.session)
    if resident_id is None:
        raise Http404
    state = oauth.state_issue(
        request.session, oauth.BIND, resident_id=resident_id, next=_station_next(request)
    )
    return HttpResponseRedirect(
        client.oauth_authorize_url(oauth.absolute(reverse("wechat:bind_return")), state)
    )


@never_cache
@rate_limited("wechat-bind")
@require_POST
def bind_later_offered(request):
    """From the station page: "Not now" for the resident this session was offered."""
    _require_enabled()
    resident_id = offered_resident_id(request.session)
    if resident_id is not None:
        prompt_dismiss(request.session, resident_id=resident_id)
    return HttpResponseRedirect(_station_next(request))


@never_cache
@rate_limited("wechat-bind")
@require_POST
def bind_later(request, token):
    """Don't offer linking WeChat again for this registration in this browser."""
    _require_enabled()
    registration = _private(request, token)
    prompt_dismiss(request.session, resident_id=registration.resident_id)
    return HttpResponseRedirect(_private_url(token))


@never_cache
@rate_limited("wechat-bind")
@require_POST
def unbind(request, token):
    """Unlink the resident's WeChat (one tap on the private page)."""
    _require_enabled()
    registration = _private(request, token)
    if binding_remove(resident=registration.resident):
        logger.info("WeChat unlinked from resident %s", registration.resident_id)
    messages.success(request, _("Your WeChat is no longer linked to your registration."))
    return HttpResponseRedirect(_private_url(token))


@never_cache
@rate_limited("wechat-my")
@require_GET
def my_registration(request):
    """
    The official account's menu entry: confirm the WeChat account, then open the linked
    resident's page in this session (no link to keep), or say how to link.
    """
    _require_enabled()
    if "state" not in request.GET:
        state = oauth.state_issue(request.session, oauth.MY)
        return HttpResponseRedirect(
            client.oauth_authorize_url(oauth.absolute(reverse("wechat:my")), state)
        )
    if oauth.state_take(request.session, oauth.MY, request.GET["state"]) is None:
        logger.info("WeChat menu entry refused: state missing, old or not this session's")
        message = _("This page has expired. Please open it again from the official account's menu.")
        return _problem(request, message, 400)
    openid, problem = _openid_or_problem(request)
    if problem is not None:
        return problem
    binding = binding_for_openid(openid)
    if binding is not None:
        request.session.cycle_key()  # new access, new session key: no fixation
        alias = private_access_grant(session=request.session, resident=binding.resident)
        if alias is not None:
            return redirect("registration:private", token=alias)
    return render(request, "wechat/my_unbound.html")
