"""Schemathesis hooks for the local stack: two places where cargo-lambda's Function URL
emulator answers by itself, before or after our function, where AWS would not.

1. It answers 500 to a body that is not UTF-8 (it builds the Lambda event's body as text)
   before our function runs. AWS Function URLs base64-encode such bodies and our handlers
   answer 400 (see the unit test of `http_api::extract`). So bodies that are not UTF-8 are
   sent with their invalid bytes replaced: still not JSON, still refused, but they reach
   the function.
2. Rarely, under load, it loses the hand-off between its HTTP side and the function's
   runtime poll and answers 500 with its own problem document. Our functions never answer
   that body (theirs is `{"error": {...}}`), so such an answer is the emulator's: the
   request is sent once more and the second answer is the one checked. Each retry is
   printed. `infra/api-fuzz.sh` separately fails the run if a function process died, so a
   crash of ours cannot hide behind this.
"""

import sys

import requests
import schemathesis
from schemathesis.core.transport import Response

EMULATOR_PROBLEM = b'{"type":"https://httpstatuses.com/500"'
_session = requests.Session()


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            case.body = bytes(body).decode("utf-8", errors="replace").encode("utf-8")


@schemathesis.hook
def after_call(context, case, response):
    if response.status_code != 500 or not response.content.startswith(EMULATOR_PROBLEM):
        return
    request = response.request
    print(
        f"api-fuzz: the Lambda emulator answered 500 by itself to {request.method} "
        f"{request.path_url.split('?')[0]}; sending it again",
        file=sys.stderr,
    )
    again = Response.from_requests(_session.send(request, timeout=30), response.verify)
    for slot in Response.__slots__:
        if hasattr(again, slot):
            setattr(response, slot, getattr(again, slot))
