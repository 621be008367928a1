"""The lost-link page: a new private link to the contact on file, whatever was typed."""

from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.client import client_ip
from core.ratelimit import rate_limit_hit
from registration import forms, services
from registration.selectors import reference_normalise
from registration.views.attempts import _rate_limit_error


@never_cache
@require_http_methods(["GET", "POST"])
def lost_link(request):
    """Send the private link again; the answer never says whether anything matched."""
    if request.method == "GET":
        return render(request, "registration/lost_link.html", {"form": forms.LostLinkForm()})
    form = forms.LostLinkForm(request.POST)
    if not form.is_valid():
        return render(request, "registration/lost_link.html", {"form": form}, status=400)
    reference = reference_normalise(form.cleaned_data["reference"])
    address = client_ip(request)
    # Per address, and per reference from that address: never per reference alone, or six
    # strangers could lock a resident out of their own link.
    over_address = rate_limit_hit("lost-link-address", key=address)
    over_reference = rate_limit_hit("lost-link-reference-address", key=f"{reference} {address}")
    if over_address or over_reference:
        _rate_limit_error(form)
        return render(request, "registration/lost_link.html", {"form": form}, status=429)
    services.registration_link_resend(
        reference=reference, document_number=form.cleaned_data["document_number"]
    )
    return redirect("registration:lost_link_sent")


def lost_link_sent(request):
    """The same answer whether or not the details matched."""
    return render(request, "registration/lost_link_sent.html")
