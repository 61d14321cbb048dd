"""`governance serve`: one asyncio process hosting the engine, the Unix-socket listener, the
store and the approval queue. This package exports its public names; each part is a module."""

from bot.server.core import GovernanceServer
from bot.server.notify import ConsoleNotifier, Notifier
from bot.server.policy import PolicyHolder
from bot.server.protocol import Peer

__all__ = ["ConsoleNotifier", "GovernanceServer", "Notifier", "Peer", "PolicyHolder"]
