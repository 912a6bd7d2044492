"""What every citizen endpoint checks before doing anything: the client's address, the Origin,
the rate limits, whether the conversation has ended. One object on ``app.state.guard``, built
from the settings at start (so the issue-11 FastAPI dependencies can wrap it as they are)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from bot.core.config import Settings
from bot.db.models import Conversation
from bot.db.session import session_scope
from bot.gateway.errors import GatewayError
from bot.gateway.ratelimit import TOO_FAST, Limiter, check, make_limiter
from bot.gateway.security import client_address, origin_allowed, trusted_networks

WRONG_ORIGIN = "Forespørgslen kommer fra en side, der ikke må bruge chatten."
ENDED = "Samtalen er afsluttet. Start en ny samtale."


class Guard:
    def __init__(self, settings: Settings, origins: list[str]) -> None:
        self.settings = settings
        self.origins = origins
        self.networks = trusted_networks(settings.trusted_proxies)
        self.limiter: Limiter = make_limiter(settings.redis_url)

    def address(self, connection: HTTPConnection) -> str:
        return client_address(connection, self.networks)

    def check_origin(self, connection: HTTPConnection) -> None:
        if not origin_allowed(connection, self.origins):
            raise GatewayError(WRONG_ORIGIN, 403)

    async def limit(
        self,
        connection: HTTPConnection,
        bucket: str,
        session_id: str | None = None,
        client_key: str | None = None,
        message: str = TOO_FAST,
    ) -> None:
        """Count one request of ``bucket`` for the session and the client (its address, or
        e.g. a kiosk's own key); raises RateLimited over either limit."""
        s = self.settings
        limits = [(f"addr:{client_key or self.address(connection)}", s.rate_limit_address)]
        if session_id:
            limits.append((f"session:{session_id}", s.rate_limit_session))
        await check(self.limiter, bucket, limits, message)

    async def require_open(self, session_id: str) -> None:
        """A conversation ended at the kiosk reset or deleted by the citizen answers nothing."""
        if await run_in_threadpool(conversation_ended, self.settings.database_url, session_id):
            raise GatewayError(ENDED, 409)


def conversation_ended(url: str, session_id: str) -> bool:
    with session_scope(url, read_only=True) as session:
        conversation = session.get(Conversation, session_id)
        return conversation is not None and conversation.ended_at is not None
