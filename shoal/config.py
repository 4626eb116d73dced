"""shoal's settings: one nested dict, filled from several sources.

Mirrors ``dask.config``. The settings live in :data:`config`, a plain nested
dict such as ``{"array": {"chunk-size": "128MiB"}, ...}``; read it with
:func:`get` using dotted keys and change it with :func:`set`.

Sources, lowest precedence first (a later source wins key by key; nested
dicts merge rather than replace each other):

1. package defaults: ``shoal/shoal.yaml``, plus whatever sub-packages add
   later with :func:`update_defaults`;
2. YAML files in the directories of :data:`paths`: ``~/.config/shoal/``
   (:data:`PATH`), then the directory named by ``$SHOAL_CONFIG`` if set.
   Every ``*.yaml``/``*.yml`` file in a directory is read, in sorted order;
3. ``SHOAL_*`` environment variables: ``SHOAL_ARRAY__CHUNK_SIZE=64MiB`` sets
   ``array.chunk-size``. A double underscore nests, names are lowercased, and
   values are read as Python literals when they parse as one (``0.5``,
   ``True``, ``None``, ``[1, 2]``), else kept as strings;
4. :func:`set`, as a context manager or a plain call, at run time.

:func:`refresh` rebuilds :data:`config` from sources 1-3; it runs once at
import. A YAML file that does not parse, or whose top level is not a mapping,
raises :class:`~shoal._exceptions.ConfigError` naming the file.

Canonical names: keys are spelled with hyphens (``chunk-size``), but a key
written with underscores means the same key, so ``get("array.chunk_size")``
reads ``array.chunk-size`` and ``set(array__chunk_size=...)`` writes it.
Whichever spelling a dict already holds wins (:func:`canonical_name`), so
merging never leaves both spellings side by side. Values are not validated
here: the code that uses a setting checks it, where it can say what is wrong.

Thread safety: :func:`set`, :func:`pop`, :func:`rename`, :func:`refresh` and
:func:`update_defaults` hold :data:`config_lock` while they mutate.
:func:`get` does not lock; it sees either the old or the new value.
"""

from __future__ import annotations

import ast
import builtins  # the set class below shadows the builtin
import difflib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import yaml

from shoal._exceptions import ConfigError

__all__ = [  # sorted; a test compares it with the module's public names
    "PATH", "canonical_name", "collect", "collect_env", "collect_yaml", "config",
    "config_lock", "defaults", "expand_environment_variables", "get",
    "global_config", "merge", "no_default", "paths", "pop", "refresh", "rename",
    "set", "update", "update_defaults"
]


class _NoDefault:
    """Type of :data:`no_default`: marks "no default given" where None is a value."""

    def __repr__(self) -> str:
        return "<no_default>"


no_default: Any = _NoDefault()

#: The user's config directory.
PATH: str = os.path.join(os.path.expanduser("~"), ".config", "shoal")

#: Environment variable naming an extra config directory, read after PATH.
_CONFIG_DIR_VAR = "SHOAL_CONFIG"
_ENV_PREFIX = "SHOAL_"

#: Directories searched for YAML files, lowest precedence first. Appending
#: here is honoured by later refresh() calls, which also add $SHOAL_CONFIG
#: if it names a directory not listed yet.
paths: list[str] = [PATH, *filter(None, [os.environ.get(_CONFIG_DIR_VAR)])]

#: The live settings. Mutate through set(); read through get(). Never rebound,
#: only changed in place, so functions can take it as a default argument.
config: dict[str, Any] = {}
global_config = config  # for functions whose "config" parameter hides the global

#: Defaults registered so far, in order: the package's own, then sub-packages'.
defaults: list[Mapping[str, Any]] = []
_defaults = defaults

#: Held by every function that mutates config.
config_lock = threading.Lock()


def canonical_name(k: Any, config: Mapping[str, Any]) -> Any:
    """Return the spelling of key ``k`` that ``config`` already uses.

    Hyphens and underscores are interchangeable; an exact match wins, then
    the other spelling if present, else ``k`` unchanged.

    Examples
    --------
    >>> canonical_name("chunk_size", {"chunk-size": 1})
    'chunk-size'
    >>> canonical_name("new_key", {})
    'new_key'
    """
    if not isinstance(k, str) or k in config:
        return k
    alt = k.replace("_", "-") if "_" in k else k.replace("-", "_")
    return alt if alt in config else k


def update(
    old: dict[str, Any],
    new: Mapping[str, Any],
    priority: Literal["new", "old", "new-defaults"] = "new",
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge ``new`` into ``old`` in place, recursing into nested dicts.

    Parameters
    ----------
    old, new : dict
        ``old`` is modified and returned; keys of ``new`` are matched to
        ``old``'s spelling with :func:`canonical_name`.
    priority : {"new", "old", "new-defaults"}
        Which side wins where both hold a value. ``"new-defaults"`` lets
        ``new`` win only where ``old`` still equals ``defaults``, i.e. where
        the user has not changed the value: this is how later defaults apply.
    defaults : dict, optional
        The defaults ``old`` was built from; used by ``"new-defaults"``.

    Examples
    --------
    >>> update({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}})
    {'a': 1, 'b': {'c': 2, 'd': 3}}
    >>> update({"a": 1}, {"a": 2, "b": 3}, priority="old")
    {'a': 1, 'b': 3}
    """
    if priority not in ("new", "old", "new-defaults"):
        raise ValueError(f"priority must be 'new', 'old' or 'new-defaults'; got {priority!r}.")
    for k, v in new.items():
        k = canonical_name(k, old)
        new_wins = (
            priority == "new"
            or k not in old
            or (priority == "new-defaults" and defaults is not None and old[k] == defaults.get(k))
        )
        if isinstance(v, Mapping):
            if not isinstance(old.get(k), dict):
                if not (new_wins or old[k] is None):
                    continue  # old holds a value that outranks this whole subtree
                # Build the subtree fresh, so that old never shares a dict with new.
                old[k] = {}
            sub_defaults = (defaults or {}).get(k)
            if not isinstance(sub_defaults, Mapping):
                sub_defaults = None
            update(old[k], v, priority, sub_defaults)
        elif new_wins:
            old[k] = v
    return old


def merge(*dicts: Mapping[str, Any]) -> dict[str, Any]:
    """Merge dicts into a new one; later dicts win.

    Examples
    --------
    >>> merge({"a": {"b-c": 1, "d": 2}}, {"a": {"b_c": 3}})
    {'a': {'b-c': 3, 'd': 2}}
    """
    result: dict[str, Any] = {}
    for d in dicts:
        update(result, d)
    return result


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"Could not parse shoal config file {str(path)!r}: {exc}\n"
            f"Fix the YAML syntax in that file, or move it out of {str(path.parent)!r}."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"Could not read shoal config file {str(path)!r}: {exc}") from exc
    if data is None:  # an empty file, or only comments
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"Shoal config file {str(path)!r} holds a {type(data).__name__}, but a config "
            f"file must be a mapping of settings, such as 'scheduler: threads'."
        )
    return data


def collect_yaml(paths: Sequence[str | os.PathLike[str]] | None = None) -> list[dict[str, Any]]:
    """Read the YAML config files in ``paths`` (files or directories).

    Directories contribute every ``*.yaml``/``*.yml`` file, sorted by name;
    paths that do not exist are skipped. Returns one dict per file, in order.
    """
    files: list[Path] = []
    for entry in map(Path, _default_paths(os.environ) if paths is None else paths):
        if entry.is_dir():
            try:
                found = [p for p in entry.iterdir() if p.suffix in (".yaml", ".yml")]
            except OSError as exc:
                raise ConfigError(
                    f"Could not list shoal config directory {str(entry)!r}: {exc}"
                ) from exc
            files.extend(sorted(p for p in found if p.is_file()))
        elif entry.is_file():
            files.append(entry)
    return [_load_yaml(f) for f in files]


def _parse_env_value(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return value


def collect_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read ``SHOAL_*`` environment variables into a nested dict.

    Examples
    --------
    >>> collect_env({"SHOAL_SCHEDULER": "threads", "SHOAL_A__B_C": "0.5", "HOME": "/x"})
    {'scheduler': 'threads', 'a': {'b_c': 0.5}}
    """
    env = os.environ if env is None else env
    result: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(_ENV_PREFIX) or name == _CONFIG_DIR_VAR:
            continue
        parts = name[len(_ENV_PREFIX) :].lower().split("__")
        if not all(parts):
            continue  # "SHOAL_" or "SHOAL_A____B": no sensible key
        node = result
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = _parse_env_value(raw)
    return result


def collect(
    paths: Sequence[str | os.PathLike[str]] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Merge the YAML files and environment variables, without the defaults.

    ``paths`` (files or directories) defaults to :data:`paths` plus the
    directory ``env["SHOAL_CONFIG"]`` names; ``env`` defaults to ``os.environ``.

    Examples
    --------
    >>> collect(paths=[], env={"SHOAL_ARRAY__CHUNK_SIZE": "64MiB"})
    {'array': {'chunk_size': '64MiB'}}
    """
    env = os.environ if env is None else env
    if paths is None:
        paths = _default_paths(env)
    return merge(*collect_yaml(paths), collect_env(env))


def refresh(
    config: dict[str, Any] | None = None,
    defaults: Sequence[Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> None:
    """Rebuild ``config`` (the global one by default) from all sources.

    Clears it, applies ``defaults`` (:data:`defaults` by default), then what
    :func:`collect` returns for ``**kwargs`` (``paths=``, ``env=``). Values
    set with :func:`set` are lost.

    Examples
    --------
    >>> c = {}
    >>> refresh(c, defaults=[{"a": 1, "b": 1}], paths=[], env={"SHOAL_B": "2"})
    >>> c
    {'a': 1, 'b': 2}
    """
    config = global_config if config is None else config
    defaults = _defaults if defaults is None else defaults
    collected = collect(**kwargs)  # before clearing, so a bad file leaves config intact
    with config_lock:
        config.clear()
        # Later defaults win, as they did when update_defaults() applied them.
        update(config, merge(*defaults, collected))


def _default_paths(env: Mapping[str, str]) -> list[str]:
    # Read $SHOAL_CONFIG now rather than at import: tests and launchers set it later.
    extra = env.get(_CONFIG_DIR_VAR)
    return [*paths, extra] if extra and extra not in paths else list(paths)


def _walk(key: str, config: Mapping[str, Any], missing_ok: bool) -> tuple[Any, str] | None:
    """Return the dict holding the last part of dotted ``key``, and that part's spelling.

    If a part is missing, return None when ``missing_ok``, else raise KeyError
    with a suggestion. (The suggestion searches the whole config, so it is
    only built when it will be shown: get() with a default is on hot paths.)
    """
    parts = key.split(".")
    node: Any = config
    for i, part in enumerate(parts):
        if not isinstance(node, Mapping):
            if missing_ok:
                return None
            held = ".".join(parts[:i])
            raise KeyError(
                f"{key!r} is not in the shoal config: {held!r} holds {node!r}, which is not "
                f"a mapping, so it has no key {part!r}."
            )
        name = canonical_name(part, node)
        if name not in node:
            if missing_ok:
                return None
            raise KeyError(_missing_message(key, parts[:i], part, node, config))
        if i == len(parts) - 1:
            return node, name
        node = node[name]
    raise AssertionError("unreachable: str.split returns at least one part")


def _flat_keys(d: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for k, v in d.items():
        path = f"{prefix}{k}"
        yield path
        if isinstance(v, Mapping):
            yield from _flat_keys(v, path + ".")


def _close_match(word: str, candidates: Sequence[str]) -> str | None:
    # Compare case-insensitively and with one separator, so "Chunk_Sise" still
    # finds "chunk-size"; report the candidate as spelled in the config.
    normal = {c.lower().replace("_", "-"): c for c in candidates}
    found = difflib.get_close_matches(word.lower().replace("_", "-"), list(normal), n=1)
    return normal[found[0]] if found else None


def _missing_message(
    key: str, found: list[str], part: str, node: Mapping[str, Any], root: Mapping[str, Any]
) -> str:
    where = f"{'.'.join(found)!r}" if found else "the top level"
    # A whole key that exists beats a fix of the one part: "worker.memory.target"
    # should suggest "distributed.worker.memory.target", not "num_workers".
    suggestion = _close_match(key, list(_flat_keys(root)))
    if suggestion is None:
        local = _close_match(part, [k for k in node if isinstance(k, str)])
        suggestion = "".join(f"{p}." for p in found) + local if local else None
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    return (
        f"{key!r} is not in the shoal config: {where} has no key {part!r}.{hint} "
        f"Pass default= to get() if the setting is optional."
    )


def get(
    key: str,
    default: Any = no_default,
    config: Mapping[str, Any] = config,
    override_with: Any = None,
) -> Any:
    """Read a setting by dotted key.

    Parameters
    ----------
    key : str
        Dotted path, such as ``"distributed.worker.memory.target"``; hyphens
        and underscores are interchangeable.
    default : optional
        Returned if the key is missing; without it a missing key raises.
    config : dict, optional
        The dict to read; the global :data:`config` by default.
    override_with : optional
        Returned as is unless None: ``get("scheduler", override_with=scheduler)``
        lets an argument override the config.

    Raises
    ------
    KeyError
        If the key is missing and no default was given. The message names the
        missing part and suggests a close key when there is one.

    Examples
    --------
    >>> get("a.b_c", config={"a": {"b-c": 1}})
    1
    >>> get("a.x", default=0, config={"a": {}})
    0
    >>> get("a", config={"a": 1}, override_with=2)
    2
    """
    if override_with is not None:
        return override_with
    # Fast path for a key spelled as stored: get() runs on hot paths (every
    # delayed call reads a setting), and canonicalizing costs several times more.
    node: Any = config
    try:
        for part in key.split("."):
            node = node[part]
        return node
    except (KeyError, TypeError):
        pass
    found = _walk(key, config, missing_ok=default is not no_default)
    if found is None:
        return default
    node, name = found
    return node[name]


def _assign(
    node: dict[str, Any],
    parts: Sequence[str],
    value: Any,
    record: list[tuple[str, tuple[str, ...], Any]] | None,
    path: tuple[str, ...] = (),
) -> None:
    """Set ``parts`` under ``node``, logging in ``record`` how to undo it.

    A record entry is ``("replace", path, old_value)`` or ``("insert", path,
    None)``. Below a newly inserted dict nothing is logged: removing that dict
    undoes everything under it.
    """
    name = canonical_name(parts[0], node)
    path = (*path, name)
    last = len(parts) == 1
    if last or not isinstance(node.get(name), dict):
        if record is not None:
            record.append(("replace", path, node[name]) if name in node else ("insert", path, None))
        if last:
            node[name] = value
            return
        node[name] = {}
        record = None
    _assign(node[name], parts[1:], value, record, path)


class set:  # noqa: N801 - mirrors dask.config.set, a class used like a function
    """Set config values, for a ``with`` block or for good.

    Parameters
    ----------
    arg : dict, optional
        Settings by dotted key, such as ``{"distributed.worker.memory.target": 0.5}``.
    config : dict, optional
        The dict to change; the global :data:`config` by default.
    lock : threading.Lock, optional
        Held while changing it; :data:`config_lock` by default.
    **kwargs
        Settings by keyword; a double underscore nests: ``array__chunk_size="64MiB"``.

    Notes
    -----
    As a context manager, leaving the block (also by an exception) restores
    every value it changed and removes every key it added. Called plainly,
    the change stays. Keys are written under the spelling the config already
    uses. Nested blocks restore in reverse order; blocks in different
    threads that change the same key may restore out of order.

    Examples
    --------
    >>> c = {"array": {"chunk-size": "128MiB"}}
    >>> with set(array__chunk_size="64MiB", config=c):
    ...     c["array"]["chunk-size"]
    '64MiB'
    >>> c
    {'array': {'chunk-size': '128MiB'}}
    >>> _ = set({"scheduler": "threads"}, config=c)
    >>> c["scheduler"]
    'threads'
    """

    def __init__(
        self,
        arg: Mapping[str, Any] | None = None,
        config: dict[str, Any] = config,
        lock: threading.Lock = config_lock,
        **kwargs: Any,
    ) -> None:
        self.config = config
        self._lock = lock
        #: Undo log, in the order changes were made; replayed backwards on exit.
        self._record: list[tuple[str, tuple[str, ...], Any]] = []
        items = [*(arg or {}).items(), *((k.replace("__", "."), v) for k, v in kwargs.items())]
        with lock:
            try:
                for key, value in items:
                    _assign(self.config, key.split("."), value, self._record)
            except BaseException:
                self._undo()  # all or nothing: a bad key leaves no half-applied change
                raise

    def __enter__(self) -> dict[str, Any]:
        return self.config

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self._undo()

    def _undo(self) -> None:
        # Caller holds the lock. Backwards, so a key changed twice ends at its first old value.
        for op, path, old in reversed(self._record):
            node: Any = self.config
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                continue  # another set() removed the parent meanwhile: nothing to restore into
            if op == "replace":
                node[path[-1]] = old
            else:
                node.pop(path[-1], None)
        self._record.clear()


def pop(key: str, default: Any = no_default, config: dict[str, Any] = config) -> Any:
    """Remove a setting by dotted key and return its value.

    Examples
    --------
    >>> c = {"a": {"b-c": 1, "d": 2}}
    >>> pop("a.b_c", config=c), c
    (1, {'a': {'d': 2}})
    """
    with config_lock:
        found = _walk(key, config, missing_ok=default is not no_default)
        if found is None:
            return default
        node, name = found
        return node.pop(name)


def rename(aliases: Mapping[str, str], config: dict[str, Any] = config) -> None:
    """Move settings from old dotted keys to new ones; missing old keys are skipped.

    Examples
    --------
    >>> c = {"old": {"name": 1}}
    >>> rename({"old.name": "new.name"}, config=c)
    >>> c
    {'old': {}, 'new': {'name': 1}}
    """
    with config_lock:
        for old, new in aliases.items():
            found = _walk(old, config, missing_ok=True)
            if found is not None:
                node, name = found
                _assign(config, new.split("."), node.pop(name), None)


def update_defaults(
    new: Mapping[str, Any],
    config: dict[str, Any] = config,
    defaults: list[Mapping[str, Any]] = defaults,
) -> None:
    """Register more defaults, as a sub-package does for its own YAML file.

    The new defaults apply wherever the config still holds the old default
    (or nothing); values a user changed are kept.

    Examples
    --------
    >>> c, d = {"a": 1, "b": 5}, [{"a": 1, "b": 1}]
    >>> update_defaults({"a": 2, "b": 2, "c": 2}, config=c, defaults=d)
    >>> c
    {'a': 2, 'b': 5, 'c': 2}
    """
    with config_lock:
        current = merge(*defaults)
        defaults.append(new)
        update(config, new, priority="new-defaults", defaults=current)


def expand_environment_variables(config: Any) -> Any:
    """Return a copy of ``config`` with ``$VAR``/``${VAR}`` expanded in every string.

    Recurses into dicts, lists, tuples and sets; other values pass through.
    Not applied automatically: call it on the settings that hold paths.

    Examples
    --------
    >>> os.environ["SHOAL_DOCTEST_DIR"] = "/scratch"
    >>> expand_environment_variables({"a": ["$SHOAL_DOCTEST_DIR/x", 1]})
    {'a': ['/scratch/x', 1]}
    >>> del os.environ["SHOAL_DOCTEST_DIR"]
    """
    if isinstance(config, Mapping):
        return {k: expand_environment_variables(v) for k, v in config.items()}
    if isinstance(config, str):
        return os.path.expandvars(config)
    if isinstance(config, (list, tuple, builtins.set, frozenset)):
        return type(config)(expand_environment_variables(v) for v in config)
    return config


def _initialize() -> None:
    update_defaults(_load_yaml(Path(__file__).with_name("shoal.yaml")))
    refresh()


_initialize()
