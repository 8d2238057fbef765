"""Schemathesis hooks for the local stack.

cargo-lambda's Function URL emulator answers 500 by itself to a body that is not UTF-8
(it builds the Lambda event's body as text) before our function runs. AWS Function URLs
base64-encode such bodies and our handlers answer 400 (see the unit test of
`http_api::extract`). So bodies that are not UTF-8 are sent with their invalid bytes
replaced: still not JSON, still refused, but they reach the function.
"""

import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            case.body = bytes(body).decode("utf-8", errors="replace").encode("utf-8")
