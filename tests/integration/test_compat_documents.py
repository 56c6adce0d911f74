"""The seed's handle_db_dict/handle_db_to_list examples over a real MongoDB cursor."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pymongo
from bson import Decimal128, ObjectId

from rainbond_kit.compat.tools import handle_date, handle_db_dict, handle_db_id, handle_db_to_list


def test_seed_examples_over_a_real_cursor(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str
) -> None:
    """Cursor -> JSON-safe dicts: ids as str, datetimes as ms (ms kept), no fabricated times."""
    collection = mongo_client[mongo_db_name]["test_parameter"]
    created = datetime(2021, 2, 23, 3, 30, 8, 123000, tzinfo=timezone.utc)
    first = collection.insert_one(
        {
            "title": "标题1",
            "creation_time": created,
            "price": Decimal128("9.90"),
            "owner": ObjectId(),
        }
    ).inserted_id
    collection.insert_one({"title": "标题2"})

    new_list = handle_db_to_list(collection.find({}).sort("title", 1))
    assert new_list[0]["id"] == str(first)
    assert new_list[0]["creation_time"] == 1614051008123
    assert new_list[0]["price"] == "9.90"
    assert "creation_time" not in new_list[1]
    assert "update_time" not in new_list[1]
    json.dumps(new_list)

    query_dict = collection.find_one({"title": {"$regex": "标题1"}})
    assert query_dict is not None
    handle_db_dict(query_dict)
    assert query_dict["id"] == str(first)
    assert "_id" not in query_dict


def test_naive_client_reads_the_same_milliseconds(mongo_uri: str, mongo_db_name: str) -> None:
    """A client without tz_aware decodes naive UTC datetimes; they convert to the same ms."""
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        mongo_uri, serverSelectionTimeoutMS=5000
    )
    try:
        collection = client[mongo_db_name]["naive"]
        collection.insert_one({"update_time": handle_date("1614051008123")})
        document = collection.find_one({"update_time": {"$gte": handle_date("2021-2-23")}})
        assert document is not None
        assert document["update_time"].tzinfo is None
        assert handle_db_to_list([document])[0]["update_time"] == 1614051008123
        found = collection.find_one(handle_db_id({"id": str(document["_id"])}))
        assert found is not None
    finally:
        client.close()
