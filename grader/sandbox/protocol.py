"""The wire format between the grader, the zygote and the child: JSON plus `.npy`, never pickle.

A *blob* is an 8-byte big-endian header length, a JSON header, then raw binary parts.
The header is `{"value": <tagged JSON>, "parts": [len, ...]}`. Plain JSON scalars, strings
and lists stand for themselves; everything else is a tagged object `{"$": tag, ...}`:
`tuple`, `dict` (str keys), `ndarray` / `npscalar` (a part holding `.npy` bytes),
`tensor` (an ndarray part plus torch dtype, device, shape), `bytes` and `object` (a
stand-in naming a type that cannot cross, and saying what it is in words). Decoding is
strict: an unknown tag, a bad part index or a malformed `.npy` is a `ProtocolError`,
never a fallback.

Only numbers cross as arrays: dtypes of kind bool, int, uint, float or complex (NUMERIC),
without fields. The encoder sends any other numpy value (a `np.str_`, `np.bytes_`,
`np.void`, `np.datetime64`, a structured or object array, a 0-d array of such a dtype) as
an `object` stand-in, and the decoder refuses such a `.npy` part. A `.npy` part is read by
its header first: the dtype, and the shape's element count times the item size against
the bytes actually present, before anything is allocated (a header may claim 2**40
values). Strings arrive as valid Unicode: a lone surrogate, which JSON can carry but UTF-8
cannot, becomes U+FFFD.

A *frame* on the child's result pipe is one type byte (`S` setup, `R` result, `E` error),
an 8-byte length and the data. The `S` frame is written before any student code runs.
"""

from __future__ import annotations

import io
import json
import struct
from typing import Any, Callable

from grader.core.text import valid_unicode

MAX_DEPTH = 32
MAX_ITEMS = 100_000
MAX_STR = 1_000_000
#: numpy dtype kinds that cross as arrays: bool, signed and unsigned integers, floats, complex.
NUMERIC = "biufc"
#: Longest `.npy` header accepted (numpy writes a few hundred bytes).
MAX_NPY_HEADER = 10_000
_LEN = struct.Struct(">Q")
_NUMPY_WORDS = {"U": "a numpy string", "S": "numpy bytes", "V": "a numpy structured (void) value",
                "M": "a numpy datetime", "m": "a numpy timedelta", "O": "a numpy object"}


class ProtocolError(ValueError):
    """Malformed data from the other side; for child data this means tampering or a bug."""


def is_numeric_dtype(dtype: Any) -> bool:
    """Does an array of `dtype` hold plain numbers (no fields, no sub-arrays, no objects)?"""
    return dtype.kind in NUMERIC and dtype.fields is None and dtype.subdtype is None


def numpy_words(dtype: Any, array: bool) -> str:
    """A non-numeric numpy dtype in the student's terms: `a numpy string (numpy.str_)`,
    `a numpy array of strings (dtype <U5)`."""
    kind = "V" if dtype.fields is not None or dtype.subdtype is not None else dtype.kind
    words = _NUMPY_WORDS.get(kind, f"a numpy value of dtype {dtype}")
    if array:
        plural = {"U": "strings", "S": "bytes", "V": "structured records", "M": "datetimes",
                  "m": "timedeltas", "O": "Python objects"}.get(kind, "non-numbers")
        return f"a numpy array of {plural} (dtype {dtype})"
    return f"{words} (numpy.{dtype.type.__name__})"


# ----------------------------------------------------------------------------- encoding


class _Encoder:
    def __init__(self, torch_module: Any = None, strict: bool = False) -> None:
        self.parts: list[bytes] = []
        self.items = 0
        self.torch = torch_module
        self.strict = strict

    def part(self, data: bytes) -> int:
        self.parts.append(data)
        return len(self.parts) - 1

    def npy(self, array: Any) -> int:
        import numpy as np

        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, array, allow_pickle=False)
        return self.part(buffer.getvalue())

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            raise ProtocolError("the value is nested too deeply or has too many items")
        kind = type(value)  # exact types only: a subclass may override anything
        if value is None or kind in (bool, int, float):
            return value
        if kind is str:
            if len(value) > MAX_STR:
                raise ProtocolError(f"a string of {len(value)} characters is too long")
            return value
        if kind is list:
            return [self.encode(item, depth + 1) for item in value]
        if kind is tuple:
            return {"$": "tuple", "items": [self.encode(item, depth + 1) for item in value]}
        if kind is dict:
            if not all(type(key) is str for key in value):
                return _object(value, "a dict with keys that are not strings", strict=self.strict)
            return {"$": "dict", "items": {k: self.encode(v, depth + 1) for k, v in value.items()}}
        if kind in (bytes, bytearray):
            return {"$": "bytes", "part": self.part(bytes(value))}
        return self.encode_array_like(value, kind)

    def encode_array_like(self, value: Any, kind: type) -> Any:
        import numpy as np

        if kind is np.ndarray:
            if not is_numeric_dtype(value.dtype):
                reason = f"an array of dtype {value.dtype} (only numeric arrays cross)"
                return _object(value, reason, strict=self.strict, what=numpy_words(value.dtype, array=True))
            return {"$": "ndarray", "part": self.npy(value)}
        if isinstance(value, np.ndarray):
            return _object(value, "a subclass of numpy.ndarray", "numpy.ndarray subclass ", self.strict)
        if isinstance(value, np.generic):
            if not is_numeric_dtype(value.dtype):
                reason = f"a numpy value of dtype {value.dtype} (only numbers cross)"
                return _object(value, reason, strict=self.strict, what=numpy_words(value.dtype, array=False))
            return {"$": "npscalar", "part": self.npy(np.asarray(value))}
        torch = self.torch
        if torch is not None and kind in (torch.Tensor, torch.nn.Parameter):
            return self.encode_tensor(value)
        if torch is not None and isinstance(value, torch.Tensor):
            return _object(value, "a subclass of torch.Tensor", "torch.Tensor subclass ", self.strict)
        return _object(value, "this type cannot be returned", strict=self.strict)

    def encode_tensor(self, tensor: Any) -> Any:
        torch = self.torch
        out = {"$": "tensor", "dtype": str(tensor.dtype), "device": str(tensor.device),
               "shape": list(tensor.shape), "requires_grad": bool(tensor.requires_grad),
               "part": None}
        if tensor.device.type == "meta":
            return out
        data = tensor.detach().cpu().resolve_conj().resolve_neg()
        if data.dtype in (torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2):
            data = data.to(torch.float32)
        out["part"] = self.npy(data.contiguous().numpy())
        return out


def _object(value: Any, reason: str, prefix: str = "", strict: bool = False, what: str = "") -> dict[str, Any]:
    kind = type(value)
    if strict:
        raise ProtocolError(f"cannot send a {kind.__qualname__}: {what or reason}")
    name = f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', '?')}"
    stand_in = {"$": "object", "type": prefix + name[:200], "reason": reason}
    if what:
        stand_in["what"] = what
    return stand_in


def encode(value: Any, torch_module: Any = None, strict: bool = False) -> bytes:
    """Serialise a value to a blob. Pass the torch module to encode tensors as tensors.
    `strict` (for the grader's own payloads) raises on a value that cannot cross instead
    of sending an `object` stand-in."""
    encoder = _Encoder(torch_module, strict)
    tagged = encoder.encode(value)
    header = json.dumps({"value": tagged, "parts": [len(p) for p in encoder.parts]},
                        allow_nan=True, separators=(",", ":")).encode()
    return b"".join([_LEN.pack(len(header)), header, *encoder.parts])


def encode_tagged(value: Any, torch_module: Any = None) -> tuple[Any, list[bytes]]:
    """A blob's two halves kept apart: the tagged JSON and its binary parts (`.npy` bytes for
    arrays and tensors), for a caller that stores them as files (`grader release` ships
    visible checks' expected values so). Strict: a value that cannot cross raises."""
    encoder = _Encoder(torch_module, strict=True)
    return encoder.encode(value), encoder.parts


# ----------------------------------------------------------------------------- decoding


class _Decoder:
    def __init__(self, parts: list[bytes], make_tensor: Callable[[Any, dict], Any]) -> None:
        self.parts = parts
        self.make_tensor = make_tensor

    def part(self, index: Any) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.parts):
            raise ProtocolError(f"bad part index {index!r}")
        return self.parts[index]

    def array(self, index: Any) -> Any:
        return read_npy(self.part(index))

    def decode(self, tagged: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH + 2:
            raise ProtocolError("value nested too deeply")
        if type(tagged) is str:
            return valid_unicode(tagged)
        if tagged is None or type(tagged) in (bool, int, float):
            return tagged
        if type(tagged) is list:
            return [self.decode(item, depth + 1) for item in tagged]
        if type(tagged) is not dict:
            raise ProtocolError(f"unexpected JSON value of type {type(tagged).__name__}")
        tag = tagged.get("$")
        if tag == "tuple" and type(tagged.get("items")) is list:
            return tuple(self.decode(item, depth + 1) for item in tagged["items"])
        if tag == "dict" and type(tagged.get("items")) is dict:
            return {valid_unicode(str(k)): self.decode(v, depth + 1) for k, v in tagged["items"].items()}
        if tag == "ndarray":
            return self.array(tagged.get("part"))
        if tag == "npscalar":
            return self.array(tagged.get("part"))[()]
        if tag == "bytes":
            return self.part(tagged.get("part"))
        if tag == "tensor":
            return self.tensor(tagged)
        if tag == "object":
            from grader.sandbox.jobs import ObjectInfo

            return ObjectInfo(type=valid_unicode(str(tagged.get("type", "?"))[:300]),
                              reason=valid_unicode(str(tagged.get("reason", ""))[:300]),
                              what=valid_unicode(str(tagged.get("what", ""))[:300]))
        raise ProtocolError(f"unknown tag {str(tag)[:40]!r}")

    def tensor(self, tagged: dict) -> Any:
        shape = tagged.get("shape")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError("bad tensor shape")
        array = None if tagged.get("part") is None else self.array(tagged["part"])
        if array is not None and list(array.shape) != shape:
            raise ProtocolError("tensor shape does not match its data")
        meta = {"dtype": valid_unicode(str(tagged.get("dtype", "?"))[:40]),
                "device": valid_unicode(str(tagged.get("device", "?"))[:40]),
                "shape": tuple(shape), "requires_grad": bool(tagged.get("requires_grad", False))}
        return self.make_tensor(array, meta)


def read_npy(data: bytes) -> Any:
    """The numeric array in `.npy` bytes, checked from its header before anything is
    allocated: version, dtype (NUMERIC, no fields), shape, and element count times item
    size equal to the bytes that follow the header. ProtocolError says what is wrong."""
    import numpy as np

    stream = io.BytesIO(data)
    try:
        major, _minor = np.lib.format.read_magic(stream)
        if major == 1:
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream, max_header_size=MAX_NPY_HEADER)
        elif major in (2, 3):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream, max_header_size=MAX_NPY_HEADER)
        else:
            raise ProtocolError(f"unsupported .npy version {major}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise ProtocolError(f"malformed array header: {str(error)[:200]}") from None
    if not is_numeric_dtype(dtype):
        raise ProtocolError(f"an array part holds {numpy_words(dtype, array=True)}; only numeric arrays cross")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError(f"an array part has a malformed shape {str(shape)[:100]}")
    count = 1
    for n in shape:
        count *= n
    present = len(data) - stream.tell()
    if count * dtype.itemsize != present:
        raise ProtocolError(f"an array part claims shape {tuple(shape)} ({count:,} values, "
                            f"{count * dtype.itemsize:,} bytes) but holds {present:,} bytes")
    try:
        flat = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
        return flat.reshape(shape, order="F" if fortran else "C").copy(order="K")
    except (ValueError, TypeError) as error:
        raise ProtocolError(f"malformed array data: {str(error)[:200]}") from None


def _tensor_info(array: Any, meta: dict) -> Any:
    from grader.sandbox.jobs import TensorInfo

    return TensorInfo(array=array, **meta)


def decode(blob: bytes, make_tensor: Callable[[Any, dict], Any] = _tensor_info) -> Any:
    """Parse a blob. Tensors become `TensorInfo` unless `make_tensor` builds real ones."""
    if len(blob) < _LEN.size:
        raise ProtocolError("truncated data")
    (size,) = _LEN.unpack_from(blob)
    if size > len(blob) - _LEN.size:
        raise ProtocolError("truncated header")
    try:
        header = json.loads(blob[_LEN.size:_LEN.size + size])
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"malformed header: {str(error)[:200]}") from None
    if type(header) is not dict or type(header.get("parts")) is not list:
        raise ProtocolError("malformed header")
    lengths = header["parts"]
    if not all(type(n) is int and n >= 0 for n in lengths):
        raise ProtocolError("malformed part lengths")
    offset, parts = _LEN.size + size, []
    for length in lengths:
        if offset + length > len(blob):
            raise ProtocolError("truncated part")
        parts.append(blob[offset:offset + length])
        offset += length
    try:
        return _Decoder(parts, make_tensor).decode(header.get("value"))
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None


def decode_tagged(tagged: Any, parts: list[bytes], make_tensor: Callable[[Any, dict], Any] = _tensor_info) -> Any:
    """Inverse of encode_tagged, as strict as `decode`."""
    try:
        return _Decoder(list(parts), make_tensor).decode(tagged)
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None


def torch_tensor_maker(torch_module: Any) -> Callable[[Any, dict], Any]:
    """For the child: decode payload tensors into real CPU tensors."""

    def make(array: Any, meta: dict) -> Any:
        if array is None:
            raise ProtocolError("payload tensor without data")
        tensor = torch_module.from_numpy(array.copy())
        dtype = getattr(torch_module, meta["dtype"].removeprefix("torch."), None)
        if isinstance(dtype, torch_module.dtype) and dtype != tensor.dtype:
            tensor = tensor.to(dtype)
        return tensor.requires_grad_(meta["requires_grad"]) if tensor.is_floating_point() else tensor

    return make


# ----------------------------------------------------------------------------- frames


def frame(kind: bytes, data: bytes) -> bytes:
    return kind + _LEN.pack(len(data)) + data


def split_frames(data: bytes) -> tuple[list[tuple[bytes, bytes]], str | None]:
    """The well-formed frames at the start of `data`, and what was wrong after them (or None)."""
    frames: list[tuple[bytes, bytes]] = []
    offset = 0
    while offset < len(data):
        kind = data[offset:offset + 1]
        if kind not in (b"S", b"R", b"E") or offset + 1 + _LEN.size > len(data):
            return frames, "malformed frame on the result channel"
        (length,) = _LEN.unpack_from(data, offset + 1)
        start = offset + 1 + _LEN.size
        if start + length > len(data):
            return frames, "truncated frame on the result channel"
        frames.append((kind, data[start:start + length]))
        offset = start + length
    return frames, None
