"""One request line to the server's Unix socket and its one response line, within deadlines.
Standard library only; it carries the question and the answer, it decides nothing."""

import json
import socket
import time

from hook_client.config import read_timeout

# The server's cap on one request line (bot/config.py): the event plus its envelope.
MAX_LINE = 17 * 1024 * 1024
MAX_RESPONSE = 1024 * 1024
CONNECT_TIMEOUT_S = 3.0


class ServerError(Exception):
    """The server was not reached or gave no usable answer; str() is the short cause."""


class TooLarge(Exception):
    """The event is over what the server accepts in one call."""


def encode_request(request: dict) -> bytes:
    """The request line, UTF-8 as it came (escaping every non-ASCII character could triple a
    large Write); raises TooLarge over the server's cap."""
    try:
        text = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
        payload = (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a \ud800 escape in the input
        payload = (json.dumps(request, separators=(",", ":")) + "\n").encode("utf-8")
    if len(payload) > MAX_LINE:
        raise TooLarge
    return payload


def ask_server(path: str, request: dict, wait_s: float) -> dict:
    """Send one request line, return the one response line as a dict, or raise ServerError."""
    payload = encode_request(request)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
        except FileNotFoundError:
            raise ServerError("no socket file") from None
        except ConnectionRefusedError:
            raise ServerError("connection refused") from None
        except TimeoutError:
            raise ServerError(f"connect timed out after {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as error:
            raise ServerError(_os_error(error)) from None
        limit = read_timeout(wait_s)
        deadline = time.monotonic() + limit
        try:
            sock.settimeout(limit)
            sock.sendall(payload)
            return _read_line(sock, deadline)
        except TimeoutError:
            raise ServerError(f"did not answer within {limit:g} s") from None
        except OSError as error:
            raise ServerError(_os_error(error)) from None
    finally:
        sock.close()


def _read_line(sock: socket.socket, deadline: float) -> dict:
    buffer = bytearray()
    while True:
        # One deadline for the whole line, so a server trickling bytes cannot hold us past it.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            break
        newline = chunk.find(b"\n")
        buffer += chunk if newline < 0 else chunk[:newline]
        if len(buffer) > MAX_RESPONSE:
            raise ServerError("response larger than 1 MB")
        if newline >= 0:
            break
    line = bytes(buffer).strip()
    if not line:
        raise ServerError("empty response, the server closed the connection")
    try:
        response = json.loads(line.decode("utf-8"))
    except ValueError:
        raise ServerError(f"response is not JSON: {_clip(line)}") from None
    if not isinstance(response, dict) or not isinstance(response.get("decision"), str):
        raise ServerError(f"response has no decision: {_clip(line)}")
    return response


def _os_error(error: OSError) -> str:
    return error.strerror or str(error) or error.__class__.__name__


def _clip(raw: bytes, limit: int = 80) -> str:
    text = raw.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "...")
