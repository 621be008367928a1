"""
A resident's registration, driven through the real form as a phone would send it.

GET the form → POST it with the photos (``step=review``) → GET the thumbnails shown on the
review page (optional) → POST the hidden answers of the review page (``step=submit``) →
follow the redirect to the receipt. CSRF tokens and the session cookie are the real ones.
"""

from __future__ import annotations

import datetime
import io
import re
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from PIL import Image

from bench.common import Client, csrf_token

LOCAL = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE of Linli's default
NATIONALITIES = ["DE", "FR", "GB", "US", "KR", "JP", "RU", "NG", "BR", "IN", "IT", "ES"]


def small_photo(seed: int = 0) -> bytes:
    """A small but real photo (800×600 noisy JPEG, ~170 KB): the 'no phone photo' case."""
    image = Image.effect_noise((800, 600), 30 + seed % 5).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70)
    return buffer.getvalue()


def answers(n: int) -> list[tuple[str, str]]:
    """A plausible, valid and unique set of answers for resident number ``n``."""
    now = datetime.datetime.now(LOCAL)
    today = now.date()
    number = f"E{secrets.randbelow(10**8):08d}{n % 10}"
    return [
        ("website", ""),
        ("surname", f"Bench{n}"),
        ("given_names", "Alex Maria"),
        ("chinese_name", ""),
        ("sex", "female" if n % 2 else "male"),
        ("date_of_birth", "1990-05-17"),
        ("nationality", NATIONALITIES[n % len(NATIONALITIES)]),
        ("document_type", "passport"),
        ("document_number", number),
        ("document_expiry", (today + datetime.timedelta(days=2000)).isoformat()),
        ("visa_type", "Z"),
        ("visa_number", f"Z{secrets.randbelow(10**8):08d}"),
        ("visa_valid_until", (today + datetime.timedelta(days=180)).isoformat()),
        ("entry_date", (today - datetime.timedelta(days=3)).isoformat()),
        ("port_of_entry", "Baiyun Airport"),
        ("arrival_at", (now - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")),
        ("expected_departure", (today + datetime.timedelta(days=90)).isoformat()),
        ("stay_reason", "work"),
        ("school_or_employer", "Bench Ltd."),
        ("address", f"Room {1000 + n % 9000}, Building 5, 88 Shipai Road"),
        ("accommodation_type", "rented"),
        ("host_name", "Li Wei"),
        ("host_phone", "13812345678"),
        ("phone", "+4915112345678"),
        ("email", f"resident{n}@example.org"),
        ("wechat_id", ""),
        ("preferred_language", "en"),
        ("preferred_channel", "email"),
        ("contact_consent", "on"),
        ("consent", "on"),
    ]


class _FormInputs(HTMLParser):
    """Collect the hidden inputs and image sources of a page."""

    def __init__(self):
        super().__init__()
        self.hidden: list[tuple[str, str]] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.hidden.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "img" and (attrs.get("src") or "").startswith("/registration/photo/"):
            self.images.append(attrs["src"])


@dataclass
class FlowResult:
    ok: bool = False
    step: str = ""
    statuses: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)  # step -> seconds
    reference: str = ""
    server_errors: int = 0
    submitted: bool = False  # the confirm POST was answered 302: a registration is stored

    @property
    def submit_seconds(self) -> float:
        """What the resident waits for once they press "send": form POST + confirm POST."""
        return self.timings.get("review", 0.0) + self.timings.get("submit", 0.0)


REFERENCE_RE = re.compile(r"\b[A-Z0-9]{2,4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


def register(
    client: Client,
    code: str,
    n: int,
    files: list[tuple[str, str, bytes]],
    *,
    thumbnails: bool = False,
    think: float = 0.0,
) -> FlowResult:
    """Register resident ``n`` at station ``code`` through the real form; never raises."""
    result = FlowResult()
    path = f"/s/{code}/register/"

    def record(step, response):
        result.statuses.append(response.status)
        result.timings[step] = result.timings.get(step, 0.0) + response.seconds
        if response.status >= 500:
            result.server_errors += 1

    try:
        result.step = "form"
        page = client.get(path)
        record("form", page)
        if page.status != 200:
            return result
        token = csrf_token(page.text)
        if think:
            time.sleep(think)
        result.step = "review"
        fields = [("csrfmiddlewaretoken", token), *answers(n), ("step", "review")]
        review = client.post_multipart(path, fields, files)
        record("review", review)
        if review.status != 200 or 'value="submit"' not in review.text:
            return result
        inputs = _FormInputs()
        inputs.feed(review.text)
        if thumbnails:
            result.step = "thumbnails"
            for src in inputs.images:
                record("thumbnails", client.get(src))
        result.step = "submit"
        sent = client.post_form(path, [*inputs.hidden, ("step", "submit")])
        record("submit", sent)
        if sent.status != 302:
            return result
        result.submitted = True
        result.step = "receipt"
        receipt = client.get(sent.header("Location").removeprefix("https://linli.bench"))
        record("receipt", receipt)
        if receipt.status != 200:
            return result
        match = REFERENCE_RE.search(receipt.text)
        result.reference = match.group(0) if match else ""
        result.ok = True
    except OSError as error:
        result.statuses.append(type(error).__name__)
    return result


@dataclass
class HelpResult:
    ok: bool = False
    step: str = ""
    statuses: list = field(default_factory=list)
    server_errors: int = 0
    submitted: bool = False  # the POST was answered 302: a help request is stored


def help_fields(n: int, *, by_sms: bool = False) -> list[tuple[str, str]]:
    """A valid help request of visitor ``n``; answered by SMS or by email."""
    return [
        ("website", ""),
        ("category", "healthcare"),
        ("subject", f"Need an English-speaking doctor ({n})"),
        ("description", "My child has a fever. Which hospital nearby speaks English?"),
        ("urgency", "normal"),
        ("contact_name", f"Helper{n}"),
        ("contact_method", "phone" if by_sms else "email"),
        ("phone", "13800138000" if by_sms else ""),
        ("email", "" if by_sms else f"helper{n}@example.org"),
        ("wechat_id", ""),
        ("contact_time", "morning"),
        ("language", "en"),
    ]


def ask_for_help(client: Client, code: str, n: int, *, by_sms: bool = False) -> HelpResult:
    """Send help request ``n`` at station ``code`` through the real form; never raises."""
    result = HelpResult()
    path = f"/s/{code}/help/"

    def record(response):
        result.statuses.append(response.status)
        if response.status >= 500:
            result.server_errors += 1

    try:
        result.step = "form"
        page = client.get(path)
        record(page)
        if page.status != 200:
            return result
        result.step = "send"
        fields = [("csrfmiddlewaretoken", csrf_token(page.text)), *help_fields(n, by_sms=by_sms)]
        sent = client.post_form(path, fields)
        record(sent)
        if sent.status != 302:
            return result
        result.submitted = True
        result.step = "case"
        case = client.get(sent.header("Location").removeprefix("https://linli.bench"))
        record(case)
        result.ok = case.status == 200
    except OSError as error:
        result.statuses.append(type(error).__name__)
    return result
