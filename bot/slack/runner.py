"""How the Slack app is connected: its settings from the environment, HTTP mode (aiohttp on our
loop) or Socket Mode, started and stopped. It must not handle an event itself."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.server import GovernanceServer
from bot.slack.app import build_app


@dataclass(frozen=True, slots=True)
class SlackSettings:
    bot_token: str
    app_token: str | None
    signing_secret: str | None
    api_url: str | None

    @classmethod
    def from_env(cls) -> SlackSettings | None:
        token = os.environ.get("SLACK_BOT_TOKEN")
        if not token:
            return None
        return cls(
            bot_token=token,
            app_token=os.environ.get("SLACK_APP_TOKEN"),
            signing_secret=os.environ.get("SLACK_SIGNING_SECRET"),
            api_url=os.environ.get("GOVERNANCE_SLACK_API_URL"),
        )


class SlackRunner:
    """Starts the app in HTTP mode (aiohttp on our loop) or Socket Mode, and stops it."""

    def __init__(self, app: AsyncApp, settings: SlackSettings) -> None:
        self.app = app
        self.settings = settings
        self._runner: web.AppRunner | None = None
        self._socket_mode: Any = None

    async def start_http(self, host: str, port: int, path: str = "/slack/events") -> None:
        async def handle(request: web.Request) -> web.Response:
            bolt_response = await self.app.async_dispatch(await to_bolt_request(request))
            return await to_aiohttp_response(bolt_response)

        web_app = web.Application()
        web_app.add_routes([web.post(path, handle)])
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    async def start_socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        self._socket_mode = AsyncSocketModeHandler(self.app, self.settings.app_token)
        await self._socket_mode.connect_async()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._socket_mode is not None:
            with contextlib.suppress(Exception):
                await self._socket_mode.close_async()


async def attach(
    server: GovernanceServer, settings: SlackSettings, http_port: int | None, host: str = "0.0.0.0"
) -> SlackRunner:
    runner = SlackRunner(build_app(server, settings), settings)
    if http_port is not None:
        if not settings.signing_secret:
            raise RuntimeError("HTTP mode needs SLACK_SIGNING_SECRET to verify Slack's requests")
        await runner.start_http(host, http_port)
    elif settings.app_token:
        await runner.start_socket_mode()
    else:
        raise RuntimeError("Socket Mode needs SLACK_APP_TOKEN (or use --http --port N)")
    return runner
