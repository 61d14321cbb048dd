"""A local HTTP server that answers like the Slack Web API, for tests: the network edge only.
It records and validates what a real slack_sdk client sends; it holds no product logic."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTION_ELEMENTS = 25
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40000  # Slack answers msg_too_long beyond this

REQUIRED_ARGS: dict[str, tuple[tuple[str, ...], ...]] = {
    # Each inner tuple is "at least one of these".
    "chat.postMessage": (("channel",), ("text", "blocks", "attachments")),
    "chat.update": (("channel",), ("ts",)),
    "chat.postEphemeral": (("channel",), ("user",)),
    "views.open": (("trigger_id", "interactivity_pointer"), ("view",)),
    "views.push": (("trigger_id", "interactivity_pointer"), ("view",)),
    "views.update": (("view_id", "external_id"), ("view",)),
    "views.publish": (("user_id",), ("view",)),
    "conversations.open": (("users", "channel"),),
    "users.lookupByEmail": (("email",),),
    "users.info": (("user",),),
    "usergroups.users.list": (("usergroup",),),
}
JSON_STRING_FIELDS = ("blocks", "view", "attachments")
# Interaction `response_url`s (hooks.slack.com/commands/… in Slack) live under this path.
RESPONSE_PREFIX = "response/"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    response: dict[str, Any] = field(default_factory=dict)


def fake_id(prefix: str, name: str) -> str:
    """A stable Slack-looking id for a name, the same on every run."""
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:8].upper()


def _length(text_object: Any) -> int:
    if isinstance(text_object, dict):
        return len(str(text_object.get("text", "")))
    return len(str(text_object or ""))


class _Invalid(Exception):
    def __init__(self, error: str, problem: str) -> None:
        super().__init__(problem)
        self.error = error
        self.problem = problem


class SlackApiStub:
    """Plays https://slack.com/api/ on 127.0.0.1; point `WebClient(base_url=stub.base_url)` here.

    Tests may set `users_by_email` and `usergroups`, read `calls`, `problems` and `messages`
    (the latest text/blocks per (channel id, ts)), and make a method fail with `fail_next`.
    """

    def __init__(self) -> None:
        self.users_by_email: dict[str, str] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._failures: dict[str, list[str]] = {}
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SlackApiStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stub._handle(self)

            def do_GET(self) -> None:
                stub._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep pytest output readable

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-api-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackApiStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._root() + "api/"

    def response_url(self, name: str) -> str:
        """A slash command's `response_url`; posts to it are recorded as `response/<name>`."""
        return self._root() + RESPONSE_PREFIX + name

    def _root(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackApiStub is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    # -- inspection ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[Call]:
        """Block until `count` calls to `method` arrived; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s, got "
                        f"{len(found)}; methods seen: {seen}"
                    )
                self._cond.wait(left)

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()
            self.problems.clear()
            self.messages.clear()
            self._failures.clear()

    def fail_next(self, method: str, error: str = "internal_error", times: int = 1) -> None:
        """Make the next `times` calls to `method` answer {ok: false, error}."""
        with self._cond:
            self._failures.setdefault(method, []).extend([error] * times)

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._cond:
            return self.messages.get((self.channel_id(channel), ts))

    @staticmethod
    def channel_id(channel: str) -> str:
        if channel.startswith("#"):
            return fake_id("C", channel[1:])
        if channel.startswith(("U", "W")):
            return fake_id("D", channel)  # posting to a user id lands in the DM
        return channel

    # -- HTTP ----------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        method = url.path.rsplit("/api/", 1)[-1] if "/api/" in url.path else url.path.lstrip("/")
        headers = {k: v for k, v in request.headers.items()}
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        problems: list[str] = []
        args = self._parse(url.query, body, request.headers.get("Content-Type", ""), problems)

        call = Call(method, args, headers)
        try:
            if not method.startswith(RESPONSE_PREFIX):  # response_url posts carry no token
                self._check_auth(method, headers)
            if problems:
                error = "invalid_blocks" if "blocks" in problems[0] else "invalid_arguments"
                raise _Invalid(error, "; ".join(problems))
            self._check_args(method, args)
            response = self._respond(method, args)
        except _Invalid as invalid:
            with self._cond:
                self.problems.append(f"{method}: {invalid.problem}")
            response = {"ok": False, "error": invalid.error}
        call.response = response
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

        payload = json.dumps(response).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    @staticmethod
    def _parse(query: str, body: bytes, content_type: str, problems: list[str]) -> dict[str, Any]:
        args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query).items()}
        if body:
            if content_type.startswith("application/json"):
                try:
                    decoded = json.loads(body)
                except ValueError as exc:
                    problems.append(f"body is not JSON: {exc}")
                    decoded = {}
                if isinstance(decoded, dict):
                    args.update(decoded)
                else:
                    problems.append("JSON body is not an object")
            elif content_type.startswith("application/x-www-form-urlencoded"):
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                args.update({k: v[-1] for k, v in form.items()})
            # multipart (file uploads) is accepted unread: no test here sends files.
        for key in JSON_STRING_FIELDS:
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError as exc:
                    problems.append(f"{key} is not valid JSON: {exc}")
        return args

    def _check_auth(self, method: str, headers: dict[str, str]) -> None:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        # Socket Mode opens its connection with the app-level token; everything else is the bot's.
        prefixes = ("Bearer xapp-",) if method == "apps.connections.open" else ("Bearer xoxb-",)
        if not auth.startswith(prefixes):
            shown = auth.split("-", 1)[0] if auth else "none"
            raise _Invalid("not_authed", f"missing bot token (Authorization: {shown})")

    @staticmethod
    def _check_args(method: str, args: dict[str, Any]) -> None:
        for alternatives in REQUIRED_ARGS.get(method, ()):
            if not any(args.get(name) not in (None, "", []) for name in alternatives):
                raise _Invalid(
                    "invalid_arguments", f"missing required argument {' or '.join(alternatives)}"
                )

    # -- validation ----------------------------------------------------------------------------

    def _validate_message(self, args: dict[str, Any]) -> None:
        text = args.get("text")
        if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
            raise _Invalid("msg_too_long", f"text is {len(str(text))} characters")
        if "blocks" in args and args["blocks"] is not None:
            problem = validate_blocks(args["blocks"], MAX_MESSAGE_BLOCKS)
            if problem:
                raise _Invalid("invalid_blocks", problem)

    @staticmethod
    def _validate_view(view: Any) -> None:
        problem = validate_view(view)
        if problem:
            raise _Invalid("invalid_arguments", problem)

    # -- answers -------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        n = next(self._ts) * 100
        return f"{1700000000 + n // 1_000_000}.{n % 1_000_000:06d}"

    def _respond(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            queued = self._failures.get(method)
            if queued:
                return {"ok": False, "error": queued.pop(0)}

        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://stub-team.slack.com/",
                "team": "Stub Team",
                "user": "governance",
                "team_id": "TSTUB",
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update") or method.startswith(
            RESPONSE_PREFIX
        ):
            self._validate_message(args)
        if method == "chat.postMessage":
            channel = self.channel_id(str(args["channel"]))
            ts = self._next_ts()
            message = {
                "type": "message",
                "user": "UBOT",
                "bot_id": "BBOT",
                "text": args.get("text", ""),
                "blocks": args.get("blocks") or [],
                "ts": ts,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = str(args["thread_ts"])
            with self._cond:
                self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            channel = self.channel_id(str(args["channel"]))
            ts = str(args["ts"])
            with self._cond:
                message = self.messages.get((channel, ts))
                if message is None:
                    raise _Invalid("message_not_found", f"no message {ts} in {channel}")
                # As in Slack: leaving `blocks` out keeps the old ones, [] removes them.
                if "blocks" in args:
                    message["blocks"] = args["blocks"] or []
                if "text" in args:
                    message["text"] = args["text"]
            return {"ok": True, "channel": channel, "ts": ts, "text": message["text"]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "conversations.open":
            users = str(args.get("users") or args.get("channel"))
            ids = ",".join(sorted(u.strip() for u in users.split(",")))
            return {"ok": True, "channel": {"id": fake_id("D", ids)}}
        if method == "users.lookupByEmail":
            wanted = str(args["email"]).lower()
            with self._cond:
                user = next(
                    (u for e, u in self.users_by_email.items() if e.lower() == wanted), None
                )
            if user is None:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": user, "profile": {"email": args["email"]}}}
        if method == "users.info":
            with self._cond:
                email = next((e for e, u in self.users_by_email.items() if u == args["user"]), None)
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": args["user"], "profile": {"email": email}}}
        if method == "usergroups.users.list":
            with self._cond:
                members = self.usergroups.get(str(args["usergroup"]))
            if members is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": list(members)}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            self._validate_view(args["view"])
            view = dict(args["view"])
            view_id = args.get("view_id") or f"V{next(self._views)}"
            return {"ok": True, "view": {**view, "id": view_id}}
        return {"ok": True}


# ---------------------------------------------------------------------------------------------
# Block Kit validation, as Slack enforces it. Each returns a problem string or None.


def validate_blocks(blocks: Any, limit: int) -> str | None:
    if not isinstance(blocks, list):
        return f"blocks is a {type(blocks).__name__}, not a list"
    if len(blocks) > limit:
        return f"{len(blocks)} blocks, more than {limit}"
    seen_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"block {index}"
        if not isinstance(block, dict):
            return f"{where} is not an object"
        kind = block.get("type")
        if kind not in KNOWN_BLOCK_TYPES:
            return f"{where} has unknown type {kind!r}"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > MAX_ID:
                return f"{where} block_id longer than {MAX_ID}"
            if block_id in seen_ids:
                return f"{where} repeats block_id {block_id!r}"
            seen_ids.add(block_id)
        problem = _validate_block(kind, block)
        if problem:
            return f"{where} ({kind}): {problem}"
    return None


def _validate_text(obj: Any, *, plain_only: bool = False) -> str | None:
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
        return f"text object expected, got {obj!r:.80}"
    if plain_only and obj["type"] != "plain_text":
        return "text must be plain_text"
    if not isinstance(obj.get("text"), str):
        return "text object without a string text"
    return None


def _validate_element(element: Any) -> str | None:
    if not isinstance(element, dict) or not element.get("type"):
        return "element without a type"
    action_id = element.get("action_id")
    if action_id is not None and len(str(action_id)) > MAX_ID:
        return f"action_id longer than {MAX_ID}"
    if element["type"] == "button":
        problem = _validate_text(element.get("text"), plain_only=True)
        if problem:
            return f"button {problem}"
        if _length(element["text"]) > MAX_BUTTON_TEXT:
            return f"button text longer than {MAX_BUTTON_TEXT}"
        if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
            return f"button value longer than {MAX_BUTTON_VALUE}"
        if element.get("style") not in (None, "primary", "danger"):
            return f"button style {element['style']!r}"
    return None


def _validate_block(kind: str, block: dict[str, Any]) -> str | None:
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            return "section needs text or fields"
        if text is not None:
            problem = _validate_text(text)
            if problem:
                return problem
            if _length(text) > MAX_SECTION_TEXT:
                return f"text is {_length(text)} characters, more than {MAX_SECTION_TEXT}"
        if fields:
            if len(fields) > 10:
                return f"{len(fields)} fields, more than 10"
            for f in fields:
                problem = _validate_text(f)
                if problem:
                    return f"field {problem}"
                if _length(f) > MAX_FIELD_TEXT:
                    return f"field is {_length(f)} characters, more than {MAX_FIELD_TEXT}"
        if block.get("accessory") is not None:
            return _validate_element(block["accessory"])
    elif kind == "header":
        problem = _validate_text(block.get("text"), plain_only=True)
        if problem:
            return problem
        if _length(block["text"]) > MAX_HEADER_TEXT:
            return f"header is {_length(block['text'])} characters, more than {MAX_HEADER_TEXT}"
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return "context needs elements"
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            return f"{len(elements)} context elements, more than {MAX_CONTEXT_ELEMENTS}"
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return "actions needs elements"
        if len(elements) > MAX_ACTION_ELEMENTS:
            return f"{len(elements)} action elements, more than {MAX_ACTION_ELEMENTS}"
        action_ids = [e.get("action_id") for e in elements if isinstance(e, dict)]
        named = [a for a in action_ids if a is not None]
        if len(named) != len(set(named)):
            return f"action_ids repeat within the block: {named}"
        for element in elements:
            problem = _validate_element(element)
            if problem:
                return problem
    elif kind == "input":
        problem = _validate_text(block.get("label"), plain_only=True)
        if problem:
            return f"label {problem}"
        if not isinstance(block.get("element"), dict):
            return "input needs an element"
        return _validate_element(block["element"])
    return None


def validate_view(view: Any) -> str | None:
    if not isinstance(view, dict):
        return f"view is a {type(view).__name__}, not an object"
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return f"view type {kind!r}"
    if kind == "modal":
        problem = _validate_text(view.get("title"), plain_only=True)
        if problem:
            return f"modal title: {problem}"
        if _length(view["title"]) > MAX_VIEW_TITLE:
            return f"modal title longer than {MAX_VIEW_TITLE}"
        for key in ("submit", "close"):
            if view.get(key) is not None and _length(view[key]) > MAX_VIEW_TITLE:
                return f"modal {key} longer than {MAX_VIEW_TITLE}"
        blocks = view.get("blocks") or []
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and not view.get(
            "submit"
        ):
            return "a modal with input blocks needs a submit button"
    if len(str(view.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
        return f"private_metadata longer than {MAX_PRIVATE_METADATA}"
    if len(str(view.get("callback_id") or "")) > MAX_ID:
        return f"callback_id longer than {MAX_ID}"
    return validate_blocks(view.get("blocks"), MAX_VIEW_BLOCKS)
