"""The ranked cursor is a payload in the one cursor codec (feedsite.pagination): it round-trips,
and a tampered, oversized or other-scope token is the codec's 400."""

from __future__ import annotations

import pytest
from django.core import signing
from rest_framework.exceptions import ValidationError

from feedsite.pagination import cursor_payload_decode, cursor_payload_encode
from ranking.cursor import MAX_LENGTH, RankedCursor, cursor_decode, cursor_encode

IN_WINDOW = RankedCursor(
    session="ab12", offset=7, length=30, top=900, floor=100, more_below=True, served=[900, 450, 101]
)


@pytest.mark.parametrize("cursor", [IN_WINDOW, RankedCursor(before=99)])
def test_round_trip(cursor):
    decoded = cursor_decode(cursor_encode(cursor))
    assert decoded == RankedCursor(**{**cursor.__dict__, "served": sorted(cursor.served, reverse=True)})


def test_tokens_signed_before_the_codec_was_shared_still_work():
    # The salt is the codec's f"feedsite.cursor.{scope}", as ranking/cursor.py signed it before.
    token = signing.dumps({"b": 42}, salt="feedsite.cursor.feed.ranked")
    assert cursor_decode(token) == RankedCursor(before=42)


@pytest.mark.parametrize(
    "token",
    [
        cursor_encode(IN_WINDOW)[:-3] + "abc",  # tampered
        cursor_payload_encode(scope="feed", payload={"b": 5}),  # the chronological feed's
        cursor_payload_encode(scope="feed.ranked", payload={"s": "x"}),  # signed, but not ours
        "x" * (MAX_LENGTH + 1),
    ],
    ids=["tampered", "chronological", "not-ours", "too-long"],
)
def test_bad_tokens_are_a_cursor_error(token):
    with pytest.raises(ValidationError) as caught:
        cursor_decode(token)
    assert set(caught.value.detail) == {"cursor"}


def test_codec_refuses_other_scopes_long_tokens_and_non_objects():
    token = cursor_payload_encode(scope="a", payload={"k": [1, 2]}, compress=True)
    assert cursor_payload_decode(scope="a", token=token) == {"k": [1, 2]}
    for scope, bad in [
        ("b", token),
        ("a", cursor_payload_encode(scope="a", payload={"k": "x" * 600})),  # over the default length
        ("a", signing.dumps([1], salt="feedsite.cursor.a")),
    ]:
        with pytest.raises(ValidationError):
            cursor_payload_decode(scope=scope, token=bad)
