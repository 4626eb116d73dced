"""Deterministic tokens: a short digest that names a value by its content.

``tokenize(*args)`` turns its arguments into a *normalized form* and hashes it.
The normalized form is built only from ``str``, ``bytes``, ``int``, ``float``,
``complex``, ``bool``, ``None`` and tuples of them, whose ``repr`` is exact
and the same in every process, so the token is ``blake2b(str(form))``. It never
uses ``id()`` or ``hash()`` (string hashing changes with ``PYTHONHASHSEED``),
and unordered containers are sorted, so equal inputs give equal tokens across
processes and runs.

:data:`normalize_token` chooses how to normalize by type (see
:mod:`shoal.graph.dispatch`); the first match along the MRO wins:

- a handler registered with ``normalize_token.register(cls)``; a class that
  defines ``__dask_tokenize__`` counts as registered, with its return value
  normalized again;
- primitives by value, tagged with their type when the ``repr`` alone would not
  tell it (``1``, ``1.0``, ``True`` and ``"1"`` all differ); large ``str`` and
  ``bytes`` by digest;
- containers recursively, each as ``(tag, ...)``: sequences in order, dicts and
  sets sorted by the ``repr`` of each normalized key or element. Lists and tuples
  of primitives take a fast path through their ``repr``;
- functions by ``module.qualname`` when that name finds them again (the
  identity pickling uses), else by their ``cloudpickle`` bytes; partials and
  methods by their parts;
- NumPy and pandas objects (registered lazily, on first sight of such an
  object, by :mod:`shoal.graph.tokenize_libs`) by a digest of their buffers, dtype, shape, index and names;
- any other object through its ``__reduce_ex__(5)`` tuple, normalized
  recursively (so a set of strings inside an object is still sorted), then its
  ``cloudpickle`` bytes; failing both, a random ``uuid4``: the token is then
  unique but not reproducible, unless determinism is required
  (``ensure_deterministic=True`` or config ``tokenize.ensure-deterministic``),
  in which case :class:`TokenizationError` says how to fix the type.

Objects being normalized sit on a stack of ids (a context variable, so threads
and nested ``tokenize`` calls stay separate), and meeting one again yields a
cycle marker instead of recursing forever.

Mirrors ``dask.base.tokenize`` and ``dask.base.normalize_token``.
"""

from __future__ import annotations

import copyreg
import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import pathlib
import reprlib
import sys
import types
import weakref
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from shoal._exceptions import ShoalError
from shoal.graph.dispatch import Dispatch

__all__ = ["TokenizationError", "normalize_token", "tokenize"]


class TokenizationError(ShoalError, ValueError):
    """An object has no deterministic token but one was required."""


@dataclasses.dataclass(slots=True)
class _Context:
    #: Raise rather than fall back to a random token.
    ensure_deterministic: bool
    #: id(obj) -> depth for the objects being normalized right now; an id is
    #: removed when its object is done, so ids of dead objects never linger.
    seen: dict[int, int]


_context: ContextVar[_Context | None] = ContextVar("shoal_tokenize", default=None)

# Types whose repr is exact and says the type: a list of only these is
# normalized by its repr in one C call instead of element by element.
_REPR_SAFE = frozenset({int, float, complex, str, bytes, bool, type(None)})
#: str/bytes longer than this are replaced by a digest, keeping forms small.
_SMALL = 4096
#: Above this size buffers are hashed with xxhash when it is installed.
_XXHASH_MIN = 1 << 20


class _TokenDispatch(Dispatch):
    """Dispatch that treats a class defining ``__dask_tokenize__`` as registered."""

    def _handler_for(self, cls: type) -> Callable[..., Any] | None:
        handler = super()._handler_for(cls)
        if handler is None and "__dask_tokenize__" in vars(cls):
            return _normalize_dask_tokenize
        return handler


normalize_token = _TokenDispatch("normalize_token")
normalize_token.__doc__ = """Normalize an object into a deterministic, hashable form.

Dispatches on type; register handlers with ``normalize_token.register(cls)``.
A handler returns primitives and tuples, calling ``normalize_token`` on parts.

Examples
--------
>>> normalize_token((1, "a"))
('tuple', "(1, 'a')")
>>> class Point:
...     def __init__(self, x, y):
...         self.x, self.y = x, y
>>> @normalize_token.register(Point)
... def _(p):
...     return ("Point", p.x, p.y)
>>> tokenize(Point(1, 2)) == tokenize(Point(1, 2)) != tokenize(Point(2, 1))
True
"""
# doctest skips instances; this runs the example above under --doctest-modules.
__test__ = {"normalize_token": normalize_token.__doc__}


def tokenize(*args: object, ensure_deterministic: bool | None = None, **kwargs: object) -> str:
    """Return a deterministic 32-character hex token for the arguments.

    Parameters
    ----------
    *args, **kwargs
        The values to name. Keyword order does not matter.
    ensure_deterministic : bool, optional
        Raise :class:`TokenizationError` instead of using a random token for
        an object that cannot be normalized deterministically. Default: the
        enclosing ``tokenize`` call's setting, else config
        ``tokenize.ensure-deterministic`` (False).

    Returns
    -------
    str
        32 hexadecimal characters; equal for equal inputs, in any process.

    Examples
    --------
    >>> tokenize(1, "a", [2.0]) == tokenize(1, "a", [2.0])
    True
    >>> tokenize(1) == tokenize(1.0)
    False
    >>> len(tokenize({"x": {1, 2}}))
    32
    """
    outer = _context.get()
    if ensure_deterministic is None:
        ensure_deterministic = (
            outer.ensure_deterministic if outer is not None else _config_ensure_deterministic()
        )
    # A nested call (from a __dask_tokenize__) shares the outer stack, so a
    # cycle that runs through several tokenize calls still ends.
    ctx = _Context(ensure_deterministic, outer.seen if outer is not None else {})
    reset = _context.set(ctx)
    try:
        form = normalize_token(args)
        if kwargs:
            form = (form, normalize_token(kwargs))
    finally:
        _context.reset(reset)
    text = str(form).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def _config_ensure_deterministic() -> bool:
    # Imported here because shoal.config is optional at this layer's import
    # time and ``import shoal.graph`` must stay cheap.
    try:
        from shoal import config

        return bool(config.get("tokenize.ensure-deterministic", False))
    except (ImportError, KeyError, AttributeError):
        return False


def _must_be_deterministic() -> bool:
    ctx = _context.get()
    return ctx.ensure_deterministic if ctx is not None else _config_ensure_deterministic()


def _on_stack(obj: Any, normalize: Callable[[Any], object]) -> object:
    """Run ``normalize(obj)`` with ``obj`` on the cycle stack."""
    ctx = _context.get()
    reset = None
    if ctx is None:  # normalize_token called outside tokenize
        ctx = _Context(_config_ensure_deterministic(), {})
        reset = _context.set(ctx)
    seen = ctx.seen
    key = id(obj)
    try:
        if key in seen:
            # Relative depth, not id: the same structure gives the same marker.
            return ("__cycle__", len(seen) - seen[key])
        seen[key] = len(seen)
        try:
            return normalize(obj)
        finally:
            del seen[key]
    finally:
        if reset is not None:
            _context.reset(reset)


def _nondeterministic(obj: Any, why: str) -> object:
    if _must_be_deterministic():
        cls = type(obj)
        if isinstance(obj, (types.FunctionType, type)):
            fix = "Define it at module level, or make what it refers to picklable"
        else:
            fix = (
                f"Give {cls.__name__} a __dask_tokenize__() method returning the values "
                f"that identify it, or register a handler with "
                f"normalize_token.register({cls.__name__})"
            )
        raise TokenizationError(
            f"Cannot tokenize {reprlib.repr(obj)} of type {_type_name(cls)} "
            f"deterministically: {why}. {fix}; or accept a random token with "
            f"ensure_deterministic=False."
        )
    return ("__random__", uuid.uuid4().hex)


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _hash_buffer(buf: Any) -> str:
    """Digest of a C-contiguous buffer (bytes, memoryview, uint8 array)."""
    nbytes = memoryview(buf).nbytes
    if nbytes > _XXHASH_MIN:
        try:
            import xxhash  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            pass
        else:
            return "xx" + str(xxhash.xxh3_128_hexdigest(buf))
    # sha1 is not for security here; it is the fastest hashlib digest on CPUs
    # with SHA extensions (about 1.5 GB/s, blake2b about 1 GB/s).
    return hashlib.sha1(buf, usedforsecurity=False).hexdigest()


def _resolve(module: str, qualname: str) -> object:
    obj: object = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _normalize_pickled(obj: Any) -> object:
    try:
        import cloudpickle  # type: ignore[import-untyped, import-not-found, unused-ignore]

        data = cloudpickle.dumps(obj, protocol=5)
    except Exception as exc:  # anything unpicklable raises its own type
        return _nondeterministic(obj, f"it cannot be pickled ({type(exc).__name__}: {exc})")
    return ("__pickle__", _hash_buffer(data))


# --- primitives -------------------------------------------------------------


@normalize_token.register((int, float, complex, str, bytes, bool, type(None)))
def _normalize_primitive(x: Any) -> object:
    cls = type(x)
    if cls is str:
        if len(x) <= _SMALL:
            return x
        return ("str", len(x), _hash_buffer(x.encode("utf-8", "surrogatepass")))
    if cls is bytes:
        return x if len(x) <= _SMALL else ("bytes", len(x), _hash_buffer(x))
    if cls is int:
        # repr of huge ints is refused past sys.get_int_max_str_digits().
        return x if x.bit_length() < 4096 else ("int", hex(x))
    if cls in _REPR_SAFE:
        return x
    if isinstance(x, enum.Enum):  # (int, Enum) mixes put int first in the MRO
        return _normalize_enum(x)
    base = next(b for b in (int, float, complex, str, bytes) if isinstance(x, b))
    state = getattr(x, "__dict__", None)
    return (_type_name(cls), normalize_token(base(x)), normalize_token(state))


@normalize_token.register((enum.Enum, enum.IntEnum, enum.IntFlag, enum.StrEnum, enum.Flag))
def _normalize_enum(x: enum.Enum) -> object:
    return ("enum", normalize_token(type(x)), x.name, normalize_token(x.value))


_BY_REPR = (
    type(Ellipsis), type(NotImplemented), range, decimal.Decimal, pathlib.PurePath,
    datetime.date, datetime.time, datetime.timedelta, datetime.tzinfo,
)


@normalize_token.register(_BY_REPR)
def _normalize_by_repr(x: object) -> object:
    # These reprs spell every field (a datetime's tzinfo included) and the
    # type; subclasses such as pandas.Timestamp have their own handlers, found
    # first along the MRO.
    text = repr(x)
    if " at 0x" in text:  # e.g. a user tzinfo with the default repr
        return _normalize_object(x)
    return ("repr", text)


@normalize_token.register(slice)
def _normalize_slice(x: slice) -> object:
    return ("slice", normalize_token(x.start), normalize_token(x.stop), normalize_token(x.step))


@normalize_token.register((bytearray, memoryview))
def _normalize_buffer(x: bytearray | memoryview) -> object:
    view = memoryview(x)
    data = view if view.c_contiguous else view.tobytes()
    return (type(x).__name__, view.format, view.shape, _hash_buffer(data))


@normalize_token.register(types.ModuleType)
def _normalize_module(x: types.ModuleType) -> object:
    return ("module", x.__name__)


# --- containers -------------------------------------------------------------

_TAGS: dict[type, str] = {list: "list", tuple: "tuple", dict: "dict", set: "set", frozenset: "frozenset"}


def _tag(cls: type) -> str:
    return _TAGS.get(cls) or _type_name(cls)


@normalize_token.register((list, tuple))
def _normalize_sequence(x: list[Any] | tuple[Any, ...]) -> object:
    tag = _tag(type(x))
    if set(map(type, x)) <= _REPR_SAFE:
        # Exact-type primitives only, so the base repr is exact; the result is
        # (tag, str), which no element-wise result (tag, tuple) can equal.
        try:
            return (tag, (list.__repr__ if isinstance(x, list) else tuple.__repr__)(x))
        except ValueError:  # an int too long for repr: take the slow path
            pass
    if isinstance(x, tuple):  # a cycle must pass through a mutable, tracked object
        return (tag, tuple(map(normalize_token, x)))
    return _on_stack(x, lambda seq: (tag, tuple(map(normalize_token, seq))))


def _key_repr(item: tuple[object, object]) -> str:
    return repr(item[0])


@normalize_token.register(dict)
def _normalize_dict(x: dict[Any, Any]) -> object:
    def items(d: dict[Any, Any]) -> object:
        pairs = [(normalize_token(k), normalize_token(v)) for k, v in d.items()]
        # Sort by the repr of the normalized key: keys of mixed types compare,
        # and repr (unlike str) tells the key 1 from the key "1".
        pairs.sort(key=_key_repr)
        return (_tag(type(d)), tuple(pairs))

    return _on_stack(x, items)


@normalize_token.register((set, frozenset))
def _normalize_set(x: set[Any] | frozenset[Any]) -> object:
    tag = _tag(type(x))
    if set(map(type, x)) <= _REPR_SAFE:
        return (tag, "repr", tuple(sorted(map(repr, x))))
    return (tag, tuple(sorted(map(normalize_token, x), key=repr)))


def _normalize_dask_tokenize(x: Any) -> object:
    return _on_stack(
        x, lambda o: ("__dask_tokenize__", _type_name(type(o)), normalize_token(o.__dask_tokenize__()))
    )


# --- functions and types ----------------------------------------------------


@normalize_token.register(type)
def _normalize_type(cls: type) -> object:
    name = (cls.__module__, cls.__qualname__)
    if _resolve(*name) is cls:
        return ("type", *name)
    return ("type", _normalize_pickled(cls))  # local or dynamically made class


@normalize_token.register(types.FunctionType)
def _normalize_function(fn: types.FunctionType) -> object:
    module = fn.__module__
    # A function in __main__ is hashed by its code, so that redefining it in a
    # notebook gives a new token instead of reusing stale results.
    if module and module != "__main__" and _resolve(module, fn.__qualname__) is fn:
        return ("function", module, fn.__qualname__)
    # Pickling a function by value costs ~40 µs; ``delayed(f)`` in a loop would
    # pay it per call. A function object's code never changes, so cache per
    # object (weakly: the entry goes with the function). Like Dask's function
    # cache, a closure whose captured values are later mutated keeps its token.
    cached = _function_tokens.get(fn)
    if cached is None:
        cached = _function_tokens[fn] = ("function", _normalize_pickled(fn))
    return cached


_function_tokens: weakref.WeakKeyDictionary[types.FunctionType, object] = weakref.WeakKeyDictionary()


@normalize_token.register(types.BuiltinFunctionType)
def _normalize_builtin(fn: types.BuiltinFunctionType) -> object:
    owner = fn.__self__
    if owner is None or isinstance(owner, types.ModuleType):
        module = fn.__module__ or getattr(owner, "__name__", "")
        return ("builtin", module, fn.__qualname__)
    return ("builtin", fn.__qualname__, normalize_token(owner))  # e.g. [].append


@normalize_token.register(types.MethodType)
def _normalize_method(m: types.MethodType) -> object:
    return ("method", normalize_token(m.__func__), normalize_token(m.__self__))


@normalize_token.register(functools.partial)
def _normalize_partial(p: functools.partial[Any]) -> object:
    return ("partial", normalize_token(p.func), normalize_token(p.args), normalize_token(p.keywords))


# --- everything else --------------------------------------------------------


@normalize_token.register(object)
def _normalize_object(x: object) -> object:
    if type(x) is object:  # a bare sentinel has no state: only identity names it
        return _nondeterministic(x, "a plain object() has no state to name it by")
    if dataclasses.is_dataclass(x):
        return _on_stack(x, _normalize_dataclass)
    return _on_stack(x, _normalize_reduced)


def _normalize_dataclass(x: Any) -> object:
    missing = ("__missing__",)  # a field with init=False not yet set
    fields = tuple(
        (f.name, normalize_token(getattr(x, f.name, missing))) for f in dataclasses.fields(x)
    )
    return ("dataclass", normalize_token(type(x)), fields)


def _normalize_reduced(x: Any) -> object:
    # Normalizing the reduce tuple, rather than hashing pickle bytes, keeps
    # sets and dicts inside the state sorted, and lets arrays in the state be
    # hashed by content.
    reducer = copyreg.dispatch_table.get(type(x))
    try:
        rv = reducer(x) if reducer is not None else x.__reduce_ex__(5)
    except Exception:
        rv = None
    if isinstance(rv, str):  # a module-level singleton, pickled by name
        return ("global", _type_name(type(x)), rv)
    if isinstance(rv, tuple) and 2 <= len(rv) <= 6:
        parts = [*rv[:3], *(None if it is None else list(it) for it in rv[3:5])]
        return ("reduce", *map(normalize_token, parts))
    return _normalize_pickled(x)


# NumPy, pandas and PyArrow handlers register themselves (lazily) on import; they need the names above.
from shoal.graph import tokenize_libs  # noqa: E402, F401
