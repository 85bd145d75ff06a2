"""What the transport sends and how it reports SendGrid's answers (a scripted HTTP server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from companion.email.sendgrid import (
    MESSAGE_ID_ARG,
    OutgoingMessage,
    PermanentSendError,
    SendGridTransport,
    SendResult,
    TransientSendError,
    marketing_headers,
)


class ScriptedSendGrid(ThreadingHTTPServer):
    """Answers each request with the next scripted (status, headers, body, delay)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[tuple[int, dict[str, str], bytes, float]] = []
        self.requests: list[dict[str, Any]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        """The timeout test hangs up before the answer; that broken pipe is expected."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedSendGrid

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        status, headers, answer, delay = (
            self.server.script.pop(0) if self.server.script else (202, {}, b"", 0.0)
        )
        time.sleep(delay)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sendgrid() -> Iterator[ScriptedSendGrid]:
    server = ScriptedSendGrid()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _message(**changes: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "message_id": "6f1c2b9e-0d7a-4c1e-9b5e-2a1d3c4b5a69",
        "to_email": "zoe@example.com",
        "to_name": "Zoë",
        "from_email": "shop@example.com",
        "from_name": "Shop",
        "subject": "Hello",
        "html": "<p>Hello</p>",
        "text": "Hello",
        "categories": ["vip"],
        "custom_args": {"flow": "vip"},
        "headers": marketing_headers("https://companion.example.com/u/tok"),
    }
    fields.update(changes)
    return OutgoingMessage(**fields)


def _send(
    server: ScriptedSendGrid, message: OutgoingMessage | None = None, timeout: float = 5.0
) -> SendResult:
    return SendGridTransport("SG.key", server.url, timeout).send(message or _message())


def test_the_provider_message_id_is_sendgrids_x_message_id(sendgrid: ScriptedSendGrid) -> None:
    sendgrid.script.append((202, {"X-Message-Id": "W5Xo2rLxQFyh1x7Xk3v5hQ"}, b"", 0))
    assert _send(sendgrid).provider_message_id == "W5Xo2rLxQFyh1x7Xk3v5hQ"


def test_the_request_carries_our_id_and_headers_in_the_personalization(
    sendgrid: ScriptedSendGrid,
) -> None:
    _send(sendgrid)
    request = sendgrid.requests[0]
    assert request["path"] == "/v3/mail/send"
    assert request["headers"]["Authorization"] == "Bearer SG.key"
    body = request["json"]
    person = body["personalizations"][0]
    assert person["to"] == [{"email": "zoe@example.com", "name": "Zoë"}]
    assert person["custom_args"] == {
        "flow": "vip",
        MESSAGE_ID_ARG: "6f1c2b9e-0d7a-4c1e-9b5e-2a1d3c4b5a69",
    }
    assert person["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert person["headers"]["List-Unsubscribe"] == "<https://companion.example.com/u/tok>"
    assert "custom_args" not in body
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["tracking_settings"]["click_tracking"]["enable"] is False


def test_a_rate_limit_is_transient_and_says_when_to_retry(sendgrid: ScriptedSendGrid) -> None:
    sendgrid.script.append((429, {"Retry-After": "30"}, b'{"errors":[{"message":"slow"}]}', 0))
    with pytest.raises(TransientSendError) as limited:
        _send(sendgrid)
    assert limited.value.retryable and limited.value.retry_after == 30
    assert limited.value.status == 429 and "slow" in str(limited.value)


def test_a_retry_after_date_becomes_seconds(sendgrid: ScriptedSendGrid) -> None:
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    sendgrid.script.append((429, {"Retry-After": later}, b"", 0))
    with pytest.raises(TransientSendError) as limited:
        _send(sendgrid)
    assert 100 < (limited.value.retry_after or 0) <= 120


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(sendgrid: ScriptedSendGrid, status: int) -> None:
    sendgrid.script.append((status, {}, b"upstream trouble", 0))
    with pytest.raises(TransientSendError) as failed:
        _send(sendgrid)
    assert failed.value.status == status and failed.value.retry_after is None


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_refusals_are_permanent_with_sendgrids_reason(
    sendgrid: ScriptedSendGrid,
    status: int,
) -> None:
    reason = b'{"errors":[{"message":"The from address does not match a verified Sender",'
    reason += b'"field":"from","help":null}]}'
    sendgrid.script.append((status, {}, reason, 0))
    with pytest.raises(PermanentSendError) as refused:
        _send(sendgrid)
    assert not refused.value.retryable and refused.value.status == status
    assert "from: The from address does not match a verified Sender" in str(refused.value)


def test_a_slow_answer_is_a_transient_timeout(sendgrid: ScriptedSendGrid) -> None:
    sendgrid.script.append((202, {}, b"", 1.0))
    with pytest.raises(TransientSendError):
        _send(sendgrid, timeout=0.2)


def test_nobody_listening_is_transient() -> None:
    transport = SendGridTransport("SG.key", "http://127.0.0.1:9", 2)
    with pytest.raises(TransientSendError):
        transport.send(_message())


def test_a_batch_over_a_thousand_is_split_into_requests(sendgrid: ScriptedSendGrid) -> None:
    messages = [_message(message_id=f"m{i}", to_email=f"c{i}@example.com") for i in range(2001)]
    outcomes = SendGridTransport("SG.key", sendgrid.url, 5).send_batch(messages)
    sizes = [len(r["json"]["personalizations"]) for r in sendgrid.requests]
    assert sizes == [1000, 1000, 1] and len(outcomes) == 2001


def test_messages_with_different_bodies_go_in_separate_requests(
    sendgrid: ScriptedSendGrid,
) -> None:
    messages = [
        _message(message_id="a", html="<p>A</p>"),
        _message(message_id="b"),
        _message(message_id="c", html="<p>A</p>", to_email="c@example.com"),
    ]
    SendGridTransport("SG.key", sendgrid.url, 5).send_batch(messages)
    recipients = [
        [p["to"][0]["email"] for p in r["json"]["personalizations"]] for r in sendgrid.requests
    ]
    assert recipients == [["zoe@example.com", "c@example.com"], ["zoe@example.com"]]


def test_a_transient_failure_marks_every_message_of_its_request(
    sendgrid: ScriptedSendGrid,
) -> None:
    sendgrid.script.append((503, {}, b"", 0))
    messages = [_message(message_id=f"m{i}", to_email=f"c{i}@example.com") for i in range(3)]
    outcomes = SendGridTransport("SG.key", sendgrid.url, 5).send_batch(messages)
    assert all(isinstance(o, TransientSendError) for o in outcomes.values())
