"""``session=`` on the repository, ``with_transaction``/``transaction`` on SecantusDB (a
one-node replica set) and ``aggregate`` filtering deleted and out-of-scope documents first."""

from __future__ import annotations

from typing import Any

import pymongo
import pytest
from bson import Decimal128
from pymongo.client_session import ClientSession
from pymongo.database import Database

from rainbond_kit.data.repository import MongoRepository
from rainbond_kit.errors import ConflictError, NotFoundError

Doc = dict[str, Any]


@pytest.fixture
def database(mongo_client: pymongo.MongoClient[Doc], mongo_db_name: str) -> Database[Doc]:
    return mongo_client[mongo_db_name]


@pytest.fixture
def stock(database: Database[Doc]) -> MongoRepository:
    indexes = [pymongo.IndexModel([("sku", 1)], unique=True, name="sku_unique")]
    repository = MongoRepository(database, "stock", indexes=indexes, readable={"sku"})
    repository.ensure_indexes()
    return repository


@pytest.fixture
def orders(database: Database[Doc]) -> MongoRepository:
    return MongoRepository(database, "orders")


def test_with_transaction_commits_every_write(
    stock: MongoRepository, orders: MongoRepository
) -> None:
    """Two collections written in one transaction are both visible after it returns."""
    item = stock.insert_one({"sku": "pen", "qty": 5})

    def sell(session: ClientSession) -> str:
        stock.increment({"id": item["id"], "qty": {"$gte": 2}}, {"qty": -2}, session=session)
        return orders.insert_one({"sku": "pen", "qty": 2}, session=session)["id"]

    order_id = stock.with_transaction(sell)
    assert stock.get(item["id"])["qty"] == 3
    assert orders.get(order_id)["qty"] == 2


def test_an_error_inside_rolls_every_write_back(
    stock: MongoRepository, orders: MongoRepository
) -> None:
    """A 409 (duplicate sku) after a first write: nothing of the transaction stays."""
    stock.insert_one({"sku": "ink", "qty": 1})

    def broken(session: ClientSession) -> None:
        orders.insert_one({"sku": "ink", "qty": 1}, session=session)
        stock.insert_one({"sku": "ink", "qty": 9}, session=session)

    with pytest.raises(ConflictError) as raised:
        stock.with_transaction(broken)
    assert raised.value.data["errors"] == {"sku": ["already exists"]}
    assert orders.count() == 0
    assert [d["qty"] for d in stock.find({"sku": "ink"})] == [1]


def test_transaction_block_commits_at_the_end_or_rolls_back(
    stock: MongoRepository,
) -> None:
    """``with repository.transaction() as session``: reads inside see the writes; an
    exception leaves nothing behind; session= reaches get/find/count/versioned writes."""
    with stock.transaction() as session:
        doc = stock.insert_one({"sku": "a", "qty": 1}, session=session)
        assert stock.count({"sku": "a"}, session=session) == 1
        stock.write_by_id(doc["id"], {"qty": 4}, session=session)
        assert stock.get(doc["id"], session=session)["qty"] == 4
    assert stock.get(doc["id"])["qty"] == 4

    def delete_then_fail() -> None:
        with stock.transaction() as session:
            stock.delete_by_id(doc["id"], session=session)
            with pytest.raises(NotFoundError):
                stock.get(doc["id"], session=session)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        delete_then_fail()
    assert stock.get(doc["id"])["qty"] == 4  # the delete was rolled back


def test_aggregate_sees_only_live_documents_in_scope(orders: MongoRepository) -> None:
    """Exact Decimal128 sums per group, soft-deleted and other owners' documents left out."""
    rows = [
        ("ann", "g1", "10.10"), ("ann", "g1", "0.20"), ("bob", "g1", "5.00"),
        ("bob", "g2", "7.77"), ("eve", "g2", "100"),
    ]  # fmt: skip
    for owner, group, amount in rows:
        orders.insert_one({"owner": owner, "group": group, "amount": Decimal128(amount)})
    gone = orders.insert_one({"owner": "ann", "group": "g1", "amount": Decimal128("1000")})
    orders.soft_delete({"id": gone["id"]})
    pipeline = [{"$group": {"_id": "$owner", "total": {"$sum": "$amount"}}}, {"$sort": {"_id": 1}}]
    g1 = orders.aggregate(pipeline, scope={"group": "g1"})
    assert g1 == [{"id": "ann", "total": "10.30"}, {"id": "bob", "total": "5.00"}]
    mine = orders.aggregate(pipeline, scope={"$or": [{"owner": "ann"}, {"group": "g2"}]})
    assert [(r["id"], r["total"]) for r in mine] == [
        ("ann", "10.30"), ("bob", "7.77"), ("eve", "100"),
    ]  # fmt: skip
    everything = orders.aggregate(pipeline, include_deleted=True, raw=True)
    assert everything[0] == {"_id": "ann", "total": Decimal128("1010.30")}
    with pytest.raises(TypeError):
        orders.aggregate("not a pipeline")  # type: ignore[arg-type]


def test_page_reads_inside_the_transaction(stock: MongoRepository) -> None:
    """``page(session=)`` sees the transaction's own writes, counts them (``estimated``
    becomes ``bounded`` there: no metadata count in a transaction), and nothing of it is
    visible outside once rolled back."""
    stock.insert_one({"sku": "old", "qty": 1})

    def add_then_fail() -> None:
        with stock.transaction() as session:
            stock.insert_one({"sku": "new", "qty": 2}, session=session)
            inside = stock.page({}, sort=[("sku", 1)], session=session)
            assert [d["sku"] for d in inside.items] == ["new", "old"]
            assert (inside.total, inside.count_strategy) == (2, "exact")
            estimated = stock.page({}, count="estimated", session=session)
            assert (estimated.total, estimated.count_strategy) == (2, "exact")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        add_then_fail()
    outside = stock.page({}, sort=[("sku", 1)])
    assert [d["sku"] for d in outside.items] == ["old"]
    assert outside.total == 1
