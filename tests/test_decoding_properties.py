"""Property-based tests: random and mutated versions of every documented example decode
into a model or raise a documented error, never anything else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nine_pic_async import APIStatusError, ResponseValidationError
from nine_pic_async import _protocol as protocol

EXAMPLES = [
    path.read_bytes() for path in sorted((Path(__file__).parent / "examples").glob("*.json"))
]
DECODERS = [
    protocol.FACE_PAGE_DECODER,
    protocol.IMAGE_PAGE_DECODER,
    protocol.EVENT_DETAILS_DECODER,
    protocol.EVENT_LIST_DECODER,
    protocol.ORIGINAL_LINKS_DECODER,
    protocol.TIMELINE_DAYS_DECODER,
    protocol.PING_DECODER,
]
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    """Return an example with bytes flipped, cut, inserted or repeated."""
    body = bytearray(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(0, len(body) - 1)))
        operation = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        if operation == "flip" and body:
            body[position] = draw(st.integers(0, 255))
        elif operation == "cut":
            del body[position:]
        elif operation == "insert":
            body[position:position] = draw(st.binary(max_size=8))
        else:
            body[position:position] = body[position : position + 16]
    return bytes(body)


def replace_somewhere(value: Any, replacement: Any, path: list[int]) -> Any:
    """Return `value` with the subtree chosen by `path` replaced."""
    if not path or not isinstance(value, (dict, list)) or not value:
        return replacement
    if isinstance(value, dict):
        key = list(value)[path[0] % len(value)]
        return {**value, key: replace_somewhere(value[key], replacement, path[1:])}
    index = path[0] % len(value)
    return [
        *value[:index],
        replace_somewhere(value[index], replacement, path[1:]),
        *value[index + 1 :],
    ]


@st.composite
def mutated_json(draw: st.DrawFn) -> bytes:
    """Return an example whose JSON has one subtree replaced by a random JSON value."""
    document = msgspec.json.decode(draw(st.sampled_from(EXAMPLES)))
    path = draw(st.lists(st.integers(0, 20), max_size=5))
    return msgspec.json.encode(replace_somewhere(document, draw(json_values), path))


def decode_or_validation_error(decoder: protocol.ResponseDecoder[Any], body: bytes) -> None:
    outcome: object
    try:
        outcome = protocol.decode_success(decoder, body, status=200, path="/property")
    except ResponseValidationError as exc:
        outcome = exc

    if isinstance(outcome, ResponseValidationError):
        assert outcome.status == 200
        assert len(outcome.body_excerpt) <= protocol.EXCERPT_BYTES + 3
    else:
        assert isinstance(outcome, decoder.model)


@SETTINGS
@given(mutated_bytes(), st.sampled_from(DECODERS))
def test_mutated_bytes_decode_or_raise_validation_error(
    body: bytes, decoder: protocol.ResponseDecoder[Any]
) -> None:
    decode_or_validation_error(decoder, body)


@SETTINGS
@given(mutated_json(), st.sampled_from(DECODERS))
def test_mutated_json_decodes_or_raises_validation_error(
    body: bytes, decoder: protocol.ResponseDecoder[Any]
) -> None:
    decode_or_validation_error(decoder, body)


@SETTINGS
@given(st.one_of(mutated_bytes(), mutated_json(), st.binary(max_size=300)), st.integers(400, 599))
def test_any_error_body_becomes_a_status_error(body: bytes, status: int) -> None:
    error = protocol.status_error(status, body, method="GET", path="/property", retry_after="x")

    assert isinstance(error, APIStatusError)
    assert error.status == status
    assert len(error.message) <= 2 * protocol.EXCERPT_BYTES
