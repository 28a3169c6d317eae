"""Allow-list loading of Paddle weight files and checkpoints: opening a file never runs its code.

``paddle.load`` unpickles, so a planted ``.pdparams`` or ``.pdckpt`` file runs whatever it
names (``os.system``, ``eval``...) the moment it is opened. This module holds:

- ``safe_load(path)``: reads files written by ``paddle.save`` (and by ``safe_save``) like
  ``torch.load(weights_only=True)``: the unpickler admits only numpy arrays, dtypes and
  scalars, ``OrderedDict`` and plain containers; any other name in the file is refused,
  before any object is built, with a one-line ``PaddleMnistError``. Tensors come back as
  numpy arrays, which ``Layer.set_state_dict`` and ``Optimizer.set_state_dict`` accept.
  Work and memory are bounded (``engine.pickle_scan``): objects, depth and opcodes are
  capped before unpickling, shared objects are walked once, arrays may not outgrow the
  file. ``safe_loads(data)`` does the same for bytes already read.
- ``safe_save(obj, path)``: writes tensors as numpy arrays (laid out as ``paddle.save``
  lays them out, so ``paddle.load`` reads the file too) and Paddle RNG states as plain
  data, atomically.
- ``rng_state_to_plain()`` / ``plain_to_rng_state(plain)``: ``paddle.get_rng_state()`` as
  plain dicts and back, for ``paddle.set_rng_state``.

Old checkpoints that pickled ``paddle.get_rng_state()`` name Paddle's ``GeneratorState``;
that one name is read into a data-only record (no Paddle code runs) and comes back as
the plain dicts ``plain_to_rng_state`` takes.

    python -c "from paddle_mnist.engine.safe_load import safe_load; print(sorted(safe_load('reports/models/mlp.pdparams')))"
"""
from __future__ import annotations

import functools
import io
import os
import pickle
import sys
import warnings
from collections import OrderedDict
from pathlib import Path

import numpy as np

from paddle_mnist.engine.pickle_scan import (MAX_DEPTH, MAX_OBJECTS, NOT_PLAIN as _NOT_PLAIN, Refused as _Refused, check_build as _check_build, checked_dtype as _checked_dtype, checked_reconstruct as _checked_reconstruct, printable as _printable, scan)
from paddle_mnist.errors import PaddleMnistError, RefusedFile
from paddle_mnist.records import atomic_write_bytes
# deferred: paddle (loaded on first use, so importing this module stays light)

NAME_TABLE = "StructuredToParameterName@@"  # paddle.save's {key: tensor name} table of a state dict
BIG_PARAM_INFO = "UnpackBigParamInfor@@"  # paddle.save's record of >1 GiB arrays split into slices
PROTOCOL = 4  # paddle.save's default pickle protocol
_GENERATOR_STATE = ("paddle.base.libpaddle", "GeneratorState")
_ATOMS = (str, bytes, bytearray, int, float, complex, bool, type(None))
MAX_FILE_BYTES = 4 << 30  # a larger weights or checkpoint file is refused unread (50M parameters take 200 MB)
ARRAY_SLACK = 1 << 16  # arrays may hold the file's size in bytes plus this (each shared use counted)
_PY2_MODULES = {"__builtin__": "builtins"}  # how pickle protocols 0-2 spell it


def _refuse_name(module, name) -> _Refused:
    return _Refused(f"the file names {_printable(module)}.{_printable(name)}, {_NOT_PLAIN}")


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as pickle protocols 0-2 use it to store bytes: latin-1 only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused(f"the file calls _codecs.encode with encoding {_printable(encoding)}, {_NOT_PLAIN}")
    return text.encode("latin1")


class _LegacyGeneratorState:
    """Stands in for Paddle's ``GeneratorState`` in old checkpoints: it only records the data."""

    __slots__ = ("plain",)

    def __setstate__(self, state):
        self.plain = _generator_tuple_to_plain(state)


@functools.lru_cache(maxsize=None)
def _allowed() -> dict:
    """(module, name) -> the object it stands for; nothing here is imported by name from the file."""
    table = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
             ("collections", "OrderedDict"): OrderedDict,
             ("builtins", "tuple"): tuple, ("builtins", "list"): list, ("builtins", "dict"): dict,
             ("builtins", "complex"): complex, ("_codecs", "encode"): _latin1_encode,
             _GENERATOR_STATE: _LegacyGeneratorState}
    reconstruct = np.zeros(0).__reduce__()[0]  # numpy._core.multiarray._reconstruct
    scalar = np.float64(0).__reduce__()[0]  # numpy._core.multiarray.scalar
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]  # numpy._core.numeric._frombuffer (protocol 5)
    for core in ("numpy.core", "numpy._core"):  # numpy 1 and numpy 2 spell the module differently
        table[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        table[(f"{core}.multiarray", "scalar")] = scalar
        table[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return table


def _resolve(module, name):
    """The allow-listed object ``module.name`` stands for; anything else is refused."""
    module = _PY2_MODULES.get(module, module)
    target = _allowed().get((module, name))
    if target is None:
        raise _refuse_name(module, name)
    return target


class _RestrictedUnpickler(pickle._Unpickler):
    """Resolves only allow-listed names, from a fixed table: it never imports anything. The Python unpickler
    (not the C one) so that ``BUILD`` is checked and the memo is a dict (a slot number allocates nothing)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, data: bytes, max_bytes: int):
        super().__init__(io.BytesIO(data), encoding="latin1")
        self.max_bytes = max_bytes

    def find_class(self, module, name):
        target = _resolve(module, name)
        if target is np.dtype:
            return _checked_dtype
        if target is _allowed()[("numpy._core.multiarray", "_reconstruct")]:
            return functools.partial(_checked_reconstruct, target, self.max_bytes)
        return target

    def persistent_load(self, pid):
        raise _Refused(f"the file holds a persistent reference, {_NOT_PLAIN}")

    def load_build(self):
        _check_build(self.stack[-2] if len(self.stack) > 1 else None, self.stack[-1] if self.stack else None,
                     (_LegacyGeneratorState,))
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build


def _pack_big_params(obj, max_bytes: int):
    """Join the slices ``paddle.save`` cut >1 GiB arrays into (pickle protocols 2 and 3)."""
    if isinstance(obj, dict) and BIG_PARAM_INFO in obj:
        info = obj.pop(BIG_PARAM_INFO)
        for key, part in info.items():
            slices = [obj.pop(name) for name in part["slices"]]
            if not all(type(a) is np.ndarray for a in slices) or sum(a.nbytes for a in slices) > max_bytes:
                raise _Refused("the file's big-array slices are not arrays the file can hold")
            obj[key] = np.concatenate(slices).reshape(part["OriginShape"])
    return obj


_BUSY = object()  # a container the walk is inside of


class _Walk:
    """Checks every object is plain data, counting objects and array bytes as a full copy would hold them
    (a shared object counted at each use, in time proportional to the distinct objects)."""

    def __init__(self, convert: bool, max_bytes: int):
        self.convert, self.max_bytes = convert, max_bytes
        self.objects = self.bytes = 0
        self.seen = {}  # id -> (object, result, objects, bytes); the object kept alive so no id is reused

    def charge(self, objects: int, nbytes: int = 0) -> None:
        self.objects, self.bytes = self.objects + objects, self.bytes + nbytes
        if self.objects > MAX_OBJECTS:
            raise _Refused(f"it holds more than {MAX_OBJECTS:,} objects (shared ones counted at each use)")
        if self.bytes > self.max_bytes:
            raise _Refused("its arrays hold more bytes than the file (shared ones counted at each use)")

    def __call__(self, obj, depth: int = 0):
        kind = type(obj)
        if kind in _ATOMS or isinstance(obj, (np.generic, np.dtype)):
            dtype = obj if isinstance(obj, np.dtype) else getattr(obj, "dtype", None)
            if dtype is not None and (dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None):
                raise _Refused(f"the file holds a numpy object or record scalar, {_NOT_PLAIN}")
            self.charge(1)
            return obj
        if kind is np.ndarray:
            if obj.dtype.hasobject or obj.dtype.fields is not None or obj.dtype.subdtype is not None:
                raise _Refused(f"the file holds an array of Python objects or records, {_NOT_PLAIN}")
            self.charge(1, obj.nbytes)
            return obj
        if depth > MAX_DEPTH:
            raise _Refused(f"it nests containers more than {MAX_DEPTH} deep")
        known = self.seen.get(id(obj))
        if known is not None:
            if known[1] is _BUSY:
                raise _Refused(f"the file holds a container inside itself, {_NOT_PLAIN}")
            self.charge(known[2], known[3])
            return known[1]
        objects, nbytes = self.objects, self.bytes
        self.seen[id(obj)] = (obj, _BUSY, 0, 0)
        result = self._container(obj, kind, depth)
        self.charge(1)
        self.seen[id(obj)] = (obj, result, self.objects - objects, self.bytes - nbytes)
        return result

    def _container(self, obj, kind, depth: int):
        if kind is _LegacyGeneratorState:
            return obj.plain  # AttributeError (a corrupted file) when the state never came
        if kind in (dict, OrderedDict, list):
            for key in (range(len(obj)) if kind is list else list(obj)):
                obj[key] = self(obj[key], depth + 1)
            return obj
        if kind is tuple:
            if self.convert and len(obj) == 2 and type(obj[0]) is str and type(obj[1]) is np.ndarray:
                return self(obj[1], depth + 1)  # how paddle.save writes a tensor inside a structure
            return tuple(self(v, depth + 1) for v in obj)
        if kind in (set, frozenset):
            return kind(self(v, depth + 1) for v in obj)
        raise _Refused(f"the file holds a {_printable(kind.__module__)}.{_printable(kind.__qualname__)}, "
                       f"{_NOT_PLAIN}")


def _finish(obj, max_bytes: int):
    """What ``paddle.load(path, return_numpy=True)`` makes of the unpickled object, checked."""
    obj = _pack_big_params(obj, max_bytes)
    if isinstance(obj, dict) and NAME_TABLE in obj:  # a state dict: arrays at the top, names aside
        del obj[NAME_TABLE]
        return _Walk(False, max_bytes)(obj)
    return _Walk(True, max_bytes)(obj)


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_FILE_BYTES:  # refused unread
                raise RefusedFile(f"{path}: refused to load: larger than {MAX_FILE_BYTES >> 30} GiB")
            data = fh.read()
    except FileNotFoundError:
        raise PaddleMnistError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise PaddleMnistError(f"{path}: is a folder, not a weights or checkpoint file") from None
    except OSError as exc:
        raise PaddleMnistError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return data


def safe_load(path):
    """The object in a file written by ``paddle.save`` or ``safe_save``, with tensors as numpy arrays.

    Reads like ``paddle.load(path, return_numpy=True)`` (a state dict's name table is
    dropped; tensors nested in a checkpoint come back as arrays) but admits only plain
    data, within bounds (``engine.pickle_scan``: objects, depth, opcodes; arrays no
    larger than the file). A file naming anything else, past a bound, or truncated or
    corrupted raises a one-line ``PaddleMnistError`` naming it; no code from the file runs.
    """
    path = Path(path)
    return safe_loads(_read(path), path)


def safe_loads(data: bytes, name="<bytes>"):
    """``safe_load`` of a file's bytes already read; errors name ``name``."""
    if len(data) > MAX_FILE_BYTES:
        raise RefusedFile(f"{name}: refused to load: larger than {MAX_FILE_BYTES >> 30} GiB")
    max_bytes = len(data) + ARRAY_SLACK
    try:
        with warnings.catch_warnings():  # protocol 0 strings with stray backslashes warn, then read
            warnings.simplefilter("ignore", DeprecationWarning)
            scan(data, _resolve)
            obj = _RestrictedUnpickler(data, max_bytes).load()
        return _finish(obj, max_bytes)
    except _Refused as exc:
        raise RefusedFile(f"{name}: refused to load: {exc.what}") from None
    except RecursionError:
        raise RefusedFile(f"{name}: refused to load: nested too deeply") from None
    except Exception as exc:  # pickle raises assorted types for truncated or foreign files
        detail = _printable(f"{type(exc).__name__}: {exc}")
        raise PaddleMnistError(f"{name}: corrupted or truncated, not a weights or checkpoint file ({detail})") from None


def _is_generator_state(obj) -> bool:
    kind = type(obj)
    return (kind.__module__, kind.__name__) == _GENERATOR_STATE


def _generator_tuple_to_plain(state) -> dict:
    """``GeneratorState.__getstate__()`` -> ``{"device", "seed", "offset", "engine"}``."""
    if not (isinstance(state, tuple) and len(state) == 4 and all(type(v) is int for v in state[:3])
            and isinstance(state[3], list) and all(type(b) is int and 0 <= b < 128 for b in state[3])):
        raise ValueError("a Paddle generator state is not (device, seed, offset, engine text)")
    device, seed, offset, engine = state
    return {"device": device, "seed": seed, "offset": offset, "engine": bytes(engine).decode("ascii")}


def rng_state_to_plain(states=None) -> list[dict]:
    """``paddle.get_rng_state()`` (or ``states``, a list of them) as plain dicts, one per generator.

    Each is ``{"device": int, "seed": int, "offset": int, "engine": str}`` (the engine is
    the generator's own text form); ``plain_to_rng_state`` turns the list back.
    """
    if states is None:
        import paddle

        states = paddle.get_rng_state()
    if _is_generator_state(states):
        states = [states]
    return [_generator_tuple_to_plain(s.__getstate__()) for s in states]


def _plain_to_generator_state(item, cls):
    if _is_generator_state(item):
        return item  # already Paddle's (a checkpoint read by paddle.load)
    keys = ("device", "seed", "offset", "engine")
    if not (isinstance(item, dict) and set(item) == set(keys) and all(type(item[k]) is int for k in keys[:3])
            and isinstance(item["engine"], str) and item["engine"].isascii()):
        raise PaddleMnistError(f"Paddle RNG state: expected a dict with keys {list(keys)}, got {_printable(item)[:80]}")
    state = cls.__new__(cls)
    state.__setstate__((item["device"], item["seed"], item["offset"], list(item["engine"].encode("ascii"))))
    return state


def plain_to_rng_state(plain) -> list:
    """``rng_state_to_plain``'s list back as Paddle generator states, for ``paddle.set_rng_state``.

    A malformed entry raises a one-line ``PaddleMnistError``.
    """
    from paddle.base import libpaddle

    if isinstance(plain, dict) or _is_generator_state(plain):
        plain = [plain]
    if not isinstance(plain, (list, tuple)):
        raise PaddleMnistError(f"Paddle RNG state: expected a list of generator states, got {type(plain).__name__}")
    try:
        return [_plain_to_generator_state(item, libpaddle.GeneratorState) for item in plain]
    except (ValueError, RuntimeError, TypeError) as exc:  # the engine text did not parse
        raise PaddleMnistError(f"Paddle RNG state: cannot restore ({_printable(exc)})") from None


def _is_state_dict(obj, tensor) -> bool:
    """``paddle.save``'s test: a dict of tensors and of dicts that hold no tensor."""
    if not isinstance(obj, dict):
        return False
    return all(isinstance(v, tensor) or (isinstance(v, dict) and not _holds_tensor(v, tensor)) for v in obj.values())


def _holds_tensor(obj, tensor) -> bool:
    if isinstance(obj, tensor):
        return True
    if isinstance(obj, dict):
        return any(_holds_tensor(v, tensor) for v in obj.values())
    return isinstance(obj, (list, tuple, set, frozenset)) and any(_holds_tensor(v, tensor) for v in obj)


def _plain(obj, tensor):
    """``obj`` as plain data: a tensor -> ``(name, array)`` as ``paddle.save`` writes it inside a structure."""
    if isinstance(obj, tensor):
        return (obj.name, obj.numpy())
    if _is_generator_state(obj):
        return _generator_tuple_to_plain(obj.__getstate__())
    kind = type(obj)
    if kind in (dict, OrderedDict):
        return kind((k, _plain(v, tensor)) for k, v in obj.items())
    if kind in (list, tuple, set, frozenset):
        return kind(_plain(v, tensor) for v in obj)
    if kind in _ATOMS or (isinstance(obj, (np.ndarray, np.generic)) and not obj.dtype.hasobject):
        return np.asarray(obj) if isinstance(obj, np.ndarray) else obj
    raise TypeError(f"cannot save a {kind.__module__}.{kind.__qualname__} as plain data "
                    "(only tensors, arrays, dicts, lists, tuples, numbers, strings and RNG states)")


def _saveable(obj):
    """``obj`` laid out as ``paddle.save`` lays it out, with every tensor a numpy array."""
    paddle = sys.modules.get("paddle")  # no tensor can exist unless paddle is imported
    tensor = paddle.Tensor if paddle is not None else ()
    if not _is_state_dict(obj, tensor):
        return _plain(obj, tensor)
    out, names = {}, {}
    for key, value in obj.items():
        if isinstance(value, tensor):
            out[key], names[key] = value.numpy(), value.name
        else:
            out[key] = _plain(value, tensor)
    out[NAME_TABLE] = names
    return out


def safe_save(obj, path) -> Path:
    """Write ``obj`` (a state dict, a checkpoint dict...) so that ``safe_load`` and ``paddle.load`` read it.

    Tensors become numpy arrays under the keys ``paddle.save`` would use, Paddle RNG
    states become ``rng_state_to_plain`` dicts; the write is atomic (a temporary file in
    the same folder, fsync, rename; the temporary file is removed on any error). An
    object that is not plain data raises ``TypeError``; a failed write (a full disk) a
    one-line ``PaddleMnistError``. Returns the path.
    """
    path = Path(path)
    data = pickle.dumps(_saveable(obj), protocol=PROTOCOL)
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise PaddleMnistError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
