"""The sandbox's wire format (grader.sandbox.protocol): a forged `.npy` header is refused
from its header, before anything is allocated; numpy values that are no numbers cross as
stand-ins that say what they are; strings arrive as valid Unicode."""

from __future__ import annotations

import json
import struct
import time
import tracemalloc

import numpy as np
import pytest

from grader.sandbox import Limits, ObjectInfo, client, protocol
from tests import hostile_inputs as hostile


@pytest.mark.parametrize("label, part, needle", hostile.FORGED_NPY, ids=[row[0] for row in hostile.FORGED_NPY])
def test_forged_npy_parts_are_refused_before_allocating(label: str, part: bytes, needle: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(protocol.ProtocolError) as caught:
            protocol.decode(hostile.blob_with_part(part))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert needle in str(caught.value)
    assert peak < 5_000_000, f"decoding a {len(part)}-byte part allocated {peak:,} bytes"


def _result_frames(tag: str, part: bytes) -> bytes:
    """What a child writes on its result pipe: the setup frame, then a result frame whose
    value is one array part."""
    items = {"value": {"$": tag, "part": 0}, "files": {"$": "dict", "items": {}}}
    header = json.dumps({"value": {"$": "dict", "items": items}, "parts": [len(part)]}).encode()
    setup = protocol.encode({"layers": ["rlimits"], "warnings": []})
    return protocol.frame(b"S", setup) + protocol.frame(b"R", struct.pack(">Q", len(header)) + header + part)


@pytest.mark.parametrize("tag", ["ndarray", "npscalar"])
def test_the_client_reports_a_forged_result_as_the_students_protocol_error(tag: str) -> None:
    outcome = client._interpret({}, b"", _result_frames(tag, hostile.npy((2 ** 40,))), Limits(), time.monotonic())
    assert (outcome.ok, outcome.error_kind) == (False, "protocol")
    assert outcome.error is not None and "claims shape (1099511627776,)" in outcome.error
    honest = client._interpret({}, b"", _result_frames(tag, hostile.npy((10,))), Limits(), time.monotonic())
    assert honest.ok and np.array_equal(honest.value, np.zeros(10))


@pytest.mark.parametrize("value", [
    np.zeros((1,) * 40), np.empty((0, 2 ** 40)), np.arange(12.0).reshape(3, 4)[:, ::2],
    np.asfortranarray(np.arange(6).reshape(2, 3)), np.array(3.5, dtype=">f8"), np.longdouble(2), np.float16([1, 2]),
    np.array([1 + 2j], dtype=np.complex64), np.array([True, False]), np.uint64(2 ** 64 - 1), np.array([np.nan, -np.inf]),
], ids=["40-d", "empty-huge", "strided", "fortran", "big-endian", "longdouble", "float16", "complex64", "bool",
        "uint64-max", "nan-inf"])
def test_numeric_values_cross_exactly(value: np.ndarray) -> None:
    back = protocol.decode(protocol.encode(value))
    assert type(back) is type(value) and back.dtype == value.dtype and back.shape == value.shape
    assert np.array_equal(back, value, equal_nan=True)


@pytest.mark.parametrize("value, what", [
    (np.str_("0.5"), "a numpy string (numpy.str_)"),
    (np.bytes_(b"0.5"), "numpy bytes (numpy.bytes_)"),
    (np.void(b"abc"), "a numpy structured (void) value (numpy.void)"),
    (np.datetime64("2024-01-01"), "a numpy datetime (numpy.datetime64)"),
    (np.timedelta64(3, "s"), "a numpy timedelta (numpy.timedelta64)"),
    (np.array(["a", "b"]), "a numpy array of strings (dtype <U1)"),
    (np.array("abc"), "a numpy array of strings (dtype <U3)"),
    (np.array(b"x"), "a numpy array of bytes (dtype |S1)"),
    (np.array([object()]), "a numpy array of Python objects (dtype object)"),
    (np.zeros(2, dtype=[("a", "f8")]), "a numpy array of structured records"),
    (np.array(np.datetime64("2024")), "a numpy array of datetimes (dtype datetime64[Y])"),
])
def test_numpy_values_that_are_no_numbers_cross_as_stand_ins(value: object, what: str) -> None:
    back = protocol.decode(protocol.encode({"v": [value]}))["v"][0]
    assert isinstance(back, ObjectInfo) and back.what.startswith(what), back
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(value, strict=True)  # the grader's own payloads never hold one


def test_lone_surrogates_arrive_as_replacement_characters() -> None:
    back = protocol.decode(protocol.encode({"bad \ud800 key": ["a \udfff b", ("\ud83d",)]}))
    assert back == {"bad \ufffd key": ["a \ufffd b", ("\ufffd",)]}
    "".join([*back, *back["bad \ufffd key"][:1]]).encode("utf-8")  # writable as UTF-8
