"""MongoDB transactions over repository calls: every repository method takes ``session=``.

::

    def pay(session):
        orders.write_by_id(order_id, {"status": "paid"}, scope=scope, session=session)
        payments.insert_one({"order_id": order_id, "amount": amount}, session=session)

    orders.with_transaction(pay)       # committed, or rolled back when ``pay`` raises

MongoDB runs transactions on replica sets and sharded clusters only. On a standalone server
the kit answers 503 ``mongodb transactions need a replica set`` (a deployment problem, never
a half-applied write): checked from the driver's view of the server before the transaction
starts, and from the server's answer if the driver had not looked yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.server_type import SERVER_TYPE
from pymongo.topology_description import TOPOLOGY_TYPE

from rainbond_kit.data.store_errors import TRANSACTIONS_NEED_A_REPLICA_SET, store_errors
from rainbond_kit.errors import ServiceUnavailableError

__all__ = ["TransactionsMixin", "refuse_standalone"]

T = TypeVar("T")
Doc = dict[str, Any]


class _Repository(Protocol):
    collection: Collection[Doc]

    def errors(self, operation: str | None = None) -> contextlib.AbstractContextManager[None]: ...


def refuse_standalone(client: MongoClient[Doc]) -> None:
    """503 when the driver already knows ``client`` talks to a standalone server."""
    description = client.topology_description
    servers = description.server_descriptions().values()
    standalone = description.topology_type == TOPOLOGY_TYPE.Single and any(
        s.server_type == SERVER_TYPE.Standalone for s in servers
    )
    if standalone:
        raise ServiceUnavailableError(TRANSACTIONS_NEED_A_REPLICA_SET)


class TransactionsMixin:
    """``with_transaction`` and ``transaction`` of :class:`MongoRepository`."""

    def _client(self) -> MongoClient[Doc]:
        repo: _Repository = self  # type: ignore[assignment]
        return repo.collection.database.client

    def with_transaction(self, callback: Callable[[ClientSession], T]) -> T:
        """Run ``callback(session)`` in a transaction: committed when it returns, rolled back
        when it raises (the exception propagates). pymongo retries the whole callback on a
        transient error (a write conflict), so it may run more than once: keep side effects
        outside MongoDB out of it.

        :raises ServiceUnavailableError: the server is standalone (or unreachable).
        """
        client = self._client()
        refuse_standalone(client)
        with store_errors(retried_pass=False), client.start_session() as session:
            result: T = session.with_transaction(callback)
        return result

    @contextlib.contextmanager
    def transaction(self) -> Iterator[ClientSession]:
        """``with repository.transaction() as session:``: one attempt, committed at the end of
        the block, rolled back when it raises (no retry: see :meth:`with_transaction`).

        :raises ServiceUnavailableError: the server is standalone (or unreachable).
        """
        client = self._client()
        refuse_standalone(client)
        with (
            store_errors(retried_pass=False),
            client.start_session() as session,
            session.start_transaction(),
        ):
            yield session
