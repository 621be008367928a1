"""Project-wide middleware: request IDs for the logs."""

import re
import uuid

from core.logs import request_id_var

# An ID set by our own nginx (`proxy_set_header X-Request-ID $request_id`) is kept, so that
# nginx's and Django's log lines of one request share it; anything odd is replaced.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIDMiddleware:
    """Give every request an ID: in ``request.request_id``, the logs and ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response
