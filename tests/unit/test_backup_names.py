"""Collection names in file stems: what mongodump writes and both mongorestore generations read."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rainbond_kit.backup.names import (
    collection_file_stem,
    escape_collection_name,
    is_truncated_stem,
    unescape_collection_name,
)
from tests.integration._backup_helpers import go_query_escape, go_unescape

# Collection names: any Unicode text without NUL (the server refuses it) or surrogates.
names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("orders", "orders"),
        ("c++", "c%2B%2B"),
        ("订单", "%E8%AE%A2%E5%8D%95"),
        ("a/b", "a%2Fb"),
        ("my coll", "my%20coll"),
        ("50%", "50%25"),
        ("a.b-c_d~e", "a.b-c_d~e"),
        ("x$y@z:w", "x%24y%40z%3Aw"),
    ],
)
def test_known_stems(name: str, stem: str) -> None:
    """Fixed examples: url.QueryEscape's output, with a space as %20."""
    assert collection_file_stem(name) == stem
    assert unescape_collection_name(stem) == name


@given(names.filter(lambda n: " " not in n))
def test_stem_is_go_query_escape(name: str) -> None:
    """Without spaces the stem is byte for byte Go's url.QueryEscape(name)."""
    assert escape_collection_name(name) == go_query_escape(name)


@given(names)
def test_both_mongorestore_generations_read_our_stems(name: str) -> None:
    """QueryUnescape (older mongorestore) and PathUnescape (current) both give the name back."""
    stem = escape_collection_name(name)
    assert escape_collection_name(name) == go_query_escape(name).replace("+", "%20")
    assert go_unescape(stem, query=True) == name
    assert go_unescape(stem, query=False) == name
    assert unescape_collection_name(stem) == name


def test_long_names_are_truncated_like_mongodump() -> None:
    """Past 238 bytes: the first 208 escaped bytes, %24, then the unpadded base64url SHA-1."""
    name = "長" * 30  # 90 bytes, 270 escaped
    stem = collection_file_stem(name)
    tag = base64.urlsafe_b64encode(hashlib.sha1(name.encode()).digest()).rstrip(b"=").decode()
    assert stem == escape_collection_name(name)[:208] + "%24" + tag
    assert len(stem) == 238
    assert is_truncated_stem(stem)
    exactly = "a" * 238  # the limit itself is not truncated
    assert collection_file_stem(exactly) == exactly
    assert not is_truncated_stem(exactly)


def test_plus_is_literal_unless_asked() -> None:
    """'+' is '+' to PathUnescape and a space to QueryUnescape."""
    assert unescape_collection_name("c++") == "c++"
    assert unescape_collection_name("my+coll", plus_is_space=True) == "my coll"


@pytest.mark.parametrize("stem", ["50%", "bad%zz", "%E8%AE"])
def test_invalid_escapes_are_refused(stem: str) -> None:
    """A stray % or bytes that are not UTF-8 are an error, as in Go's unescape."""
    with pytest.raises(ValueError, match=r"invalid %-escape|codec can't decode"):
        unescape_collection_name(stem)
