"""rainbond_python's DBConnect examples (import line changed) against a real MongoDB wire server."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest
from bson import ObjectId
from werkzeug.exceptions import HTTPException

from rainbond_kit.compat.db_connect import DBConnect


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, mongo_uri: str, mongo_db_name: str) -> DBConnect:
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    return DBConnect(db=mongo_db_name, collection="books")


def _status(exc: pytest.ExceptionInfo[HTTPException]) -> int | None:
    return exc.value.code


def test_write_read_examples(db: DBConnect) -> None:
    """write_one_docu returns the id; find_docu_by_id returns the document with a str id."""
    new_id = db.write_one_docu(docu={"name": "LaoXu"})
    docu = db.find_docu_by_id(str(new_id))
    assert docu is not None
    assert docu["id"] == new_id
    assert docu["name"] == "LaoXu"
    assert isinstance(docu["creation_time"], int)
    assert db.find_docu_by_id("6008daa19223551b00548ded", raise_err=False) is None
    with pytest.raises(HTTPException) as missing:
        db.find_docu_by_id("6008daa19223551b00548ded")
    assert _status(missing) == 404


def test_invalid_id_is_400_not_500(db: DBConnect) -> None:
    """Bug fix: a malformed id is a 400 (the original answered 500), with or without raise_err."""
    for raise_err in (True, False):
        with pytest.raises(HTTPException) as bad:
            db.find_docu_by_id("not-hex", raise_err=raise_err)
        assert _status(bad) == 400


def test_write_many_does_not_mutate_callers_dicts(db: DBConnect) -> None:
    """Bug fix: write_many_docu leaves the caller's dicts untouched."""
    insert_dict_list = [{"name": "Xiao Ming", "age": 23}, {"name": "lao Yang", "age": 35}]
    before = copy.deepcopy(insert_dict_list)
    ids = db.write_many_docu(docu_list=insert_dict_list)
    assert insert_dict_list == before
    assert [d["name"] for d in db.find_docu_by_id_list(ids)] == ["Xiao Ming", "lao Yang"]
    assert db.find_docu_by_id_list(list(reversed(ids)))[0]["name"] == "lao Yang"  # order kept
    assert db.find_docu_by_id_list([]) == []


def test_exists_update_inc_examples(db: DBConnect) -> None:
    """does_it_exist, update_docu (one / many) and update_docu_inc as documented."""
    db.write_many_docu([{"name": "Xiao Ming", "age": 23}, {"name": "xiao yang", "age": 18},
                        {"name": "other", "age": 23}])  # fmt: skip
    assert db.does_it_exist(docu={"name": "Xiao Ming"}) is True
    assert db.update_docu(find_docu={"name": "Xiao Ming"}, modify_docu={"name": "Xiao Hong"}) == {
        "matched_count": 1, "modified_count": 1}  # fmt: skip
    assert db.does_it_exist(docu={"name": "Xiao Ming"}) is False
    result = db.update_docu(find_docu={"age": 23}, modify_docu={"name": "23 year old"}, many=True)
    assert result == {"matched_count": 2, "modified_count": 2}
    assert (
        db.update_docu_inc(find_docu={"name": "xiao yang"}, modify_docu={"age": 1})[
            "modified_count"
        ]
        == 1
    )
    assert db.find_docu({"name": "xiao yang"})[0]["age"] == 19


def test_delete_examples_and_soft_delete_consistency(db: DBConnect) -> None:
    """Soft delete hides from every read (exists, distinct included); hard delete reaches it."""
    a = db.write_one_docu({"name": "a", "age": 1})
    b = db.write_one_docu({"name": "b", "age": 2})
    c = db.write_one_docu({"name": "c", "age": 3})
    assert db.delete_docu(find_docu={"id": a}, false_delete=True) == {
        "deleted_count": 1,
        "false_delete": True,
    }
    assert db.find_docu_by_id(a, raise_err=False) is None
    assert db.does_it_exist({"name": "a"}) is False  # bug fix: the original still saw it
    assert db.find_docu_distinct("age") == 2  # bug fix: soft-deleted values not counted
    assert db.update_docu({"id": a}, {"name": "zombie"})["matched_count"] == 0
    assert db.delete_docu(find_docu={"id": a}) == {
        "deleted_count": 1,
        "false_delete": False,
    }  # reaches it
    assert db.mongo_collection.count_documents({"_id": ObjectId(a)}) == 0
    result = db.delete_docu(find_docu={"id": {"$in": [b, c]}}, many=True)
    assert result == {"deleted_count": 2, "false_delete": False}


def test_find_docu_examples(db: DBConnect) -> None:
    """find_docu returns a list for one or many; server-side operators are allowed."""
    db.write_many_docu([{"title": "标题1"}, {"title": "标题2"}, {"title": "其他"}])
    assert len(db.find_docu(find_dict={"title": {"$regex": "标题"}})) == 2
    one = db.find_docu(find_dict={"title": {"$regex": "标题"}}, many=False)
    assert len(one) == 1
    assert db.find_docu({"title": "none"}, many=False) == []


def _param(method: str = "GET", **params: Any) -> SimpleNamespace:
    if method == "GET":
        return SimpleNamespace(method=method, param_url=params, param_json={})
    return SimpleNamespace(method=method, param_url={}, param_json=params)


def test_find_paging_seed_parameters(db: DBConnect) -> None:
    """$offset/$limit/$orderby and fuzzy filters as in the seed; ints now filter exactly."""
    db.write_many_docu(
        [{"name": f"sb{i}", "author": "李杰" if i % 2 else "王五", "age": i} for i in range(15)]
    )
    page = db.find_paging(_param(**{"$offset": "0", "$limit": "15", "name": "sb"}))
    assert page["total"] == 15
    assert len(page["items"]) == 15
    assert page["dummy_remove"] == 0
    by_author = db.find_paging(
        _param(author="李杰", **{"$orderby": "age desc, name asc", "$limit": "3"})
    )
    assert [d["age"] for d in by_author["items"]] == [13, 11, 9]
    assert db.find_paging(_param("POST", age=4))["total"] == 1  # JSON ints compare exactly
    param = _param(name="sb1")
    assert db.find_paging(param)["total"] == db.find_paging(param)["total"] == 6  # no mutation


@pytest.mark.parametrize(
    "body",
    [
        {"password": {"$regex": "^hun"}},
        {"remove_time": "x"},
        {"$where": "1"},
        {"name": [{"$ne": 1}]},
    ],
)
def test_find_paging_refuses_client_operators(db: DBConnect, body: dict[str, Any]) -> None:
    """Bug fix: JSON bodies cannot smuggle operators or read soft-deleted documents."""
    db.write_one_docu({"name": "x", "password": "hunter2"})
    with pytest.raises(HTTPException) as refused:
        db.find_paging(_param("POST", **body))
    assert _status(refused) == 400


def test_find_paging_dummy_remove_ignores_the_filter(db: DBConnect) -> None:
    """dummy_remove counts every soft-deleted document: a count the client's filter steered
    would reveal the contents of deleted documents (issue 12)."""
    a = db.write_one_docu({"name": "keep"})
    db.write_one_docu({"name": "other"})
    db.delete_docu({"id": a}, false_delete=True)
    db.write_one_docu({"name": "keep"})
    assert db.find_paging(_param(name="keep"))["dummy_remove"] == 1
    assert db.find_paging(_param(name="other"))["dummy_remove"] == 1


def test_instances_share_one_client(db: DBConnect, mongo_db_name: str) -> None:
    """Bug fix: DBConnect instances reuse one pooled client per server."""
    other = DBConnect(db=mongo_db_name, collection="other")
    assert other.mongo_client is db.mongo_client


def test_redundant_dict_is_never_stored(db: DBConnect) -> None:
    """Bug fix: extras collected by verification(allow_extra=True) are not written."""
    new_id = db.write_one_docu({"title": "t", "redundant_dict": {"evil": 1}})
    assert "redundant_dict" not in db.mongo_collection.find_one({"_id": ObjectId(new_id)})
