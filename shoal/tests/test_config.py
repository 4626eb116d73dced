"""Tests for shoal.config: sources, precedence, get/set, and the unit parsers in shoal.utils."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import shoal.config as cfg
from shoal._exceptions import ConfigError, ShoalError
from shoal.utils import format_bytes, parse_bytes, parse_timedelta


@pytest.fixture(autouse=True)
def restore_config():
    """Snapshot the global config and defaults; put them back after each test.

    Restores in place: other modules hold references to these objects.
    """
    saved_config = copy.deepcopy(cfg.config)
    saved_defaults = list(cfg.defaults)
    saved_paths = list(cfg.paths)
    yield
    cfg.config.clear()
    cfg.config.update(saved_config)
    cfg.defaults[:] = saved_defaults
    cfg.paths[:] = saved_paths


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """Point the config search at empty tmp directories and clear SHOAL_* variables."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setattr(cfg, "paths", [str(home)])
    for name in list(os.environ):
        if name.startswith("SHOAL_"):
            monkeypatch.delenv(name)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults ---------------------------------------------------------------


def test_defaults_loaded_from_package_yaml(isolated):
    cfg.refresh()
    assert cfg.get("scheduler") is None
    assert cfg.get("num_workers") is None
    assert cfg.get("array.chunk-size") == "128MiB"
    assert cfg.get("array.rechunk.method") == "tasks"
    assert cfg.get("tokenize.ensure-deterministic") is False
    assert cfg.get("multiprocessing.context") == "spawn"
    assert cfg.get("dataframe.query-planning") is True
    assert cfg.get("dataframe.backend") == "pandas"
    assert cfg.get("distributed.worker.memory") == {
        "target": 0.6,
        "spill": 0.7,
        "pause": 0.8,
        "terminate": 0.95,
    }
    assert cfg.get("distributed.scheduler.allowed-failures") == 3
    assert cfg.get("distributed.comm.timeouts.connect") == "30s"
    assert cfg.get("distributed.dashboard.link") == "{scheme}://{host}:{port}/status"
    assert cfg.get("diagnostics.progress") == {"minimum": 1.0, "dt": 0.1}
    assert "temporary-directory" in cfg.config


def test_package_defaults_are_registered_and_hyphenated():
    package = cfg.defaults[0]
    assert package["array"]["chunk-size"] == "128MiB"

    def keys(d: dict[str, Any]):
        for k, v in d.items():
            yield k
            if isinstance(v, dict):
                yield from keys(v)

    # num_workers and delayed_pure keep Dask's spelling; every other key uses hyphens.
    assert sorted(k for k in keys(package) if "_" in k) == ["delayed_pure", "num_workers"]


def test_all_matches_public_names():
    # isidentifier(): pytest's assertion rewriting may add "@py_builtins" and the like.
    public = {n for n in vars(cfg) if not n.startswith("_") and n.isidentifier()}
    modules_and_imports = {"annotations", "ast", "builtins", "difflib", "os", "threading"}
    modules_and_imports |= {"Iterator", "Mapping", "Sequence", "Path", "TracebackType"}
    modules_and_imports |= {"Any", "Literal", "yaml", "ConfigError"}
    assert sorted(cfg.__all__) == cfg.__all__
    assert set(cfg.__all__) == public - modules_and_imports


def test_import_is_light():
    code = "import sys, shoal.config; print(sorted({'numpy', 'pandas'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_paths_and_PATH():
    assert cfg.PATH == os.path.join(os.path.expanduser("~"), ".config", "shoal")
    assert cfg.paths[0] == cfg.PATH


# --- environment variables ---------------------------------------------------


def test_collect_env_nesting_and_literals():
    env = {
        "SHOAL_SCHEDULER": "threads",
        "SHOAL_DISTRIBUTED__WORKER__MEMORY__TARGET": "0.6",
        "SHOAL_NUM_WORKERS": "4",
        "SHOAL_A__FLAG": "True",
        "SHOAL_A__NOTHING": "None",
        "SHOAL_A__LIST": "[1, 'x']",
        "SHOAL_A__TIMEOUT": "30s",
        "SHOAL_A__EXPR": "__import__('os')",  # not a literal: kept as text, never run
        "NOT_SHOAL": "1",
        "SHOAL_CONFIG": "/some/dir",  # names a directory, is not a setting
    }
    assert cfg.collect_env(env) == {
        "scheduler": "threads",
        "distributed": {"worker": {"memory": {"target": 0.6}}},
        "num_workers": 4,
        "a": {
            "flag": True,
            "nothing": None,
            "list": [1, "x"],
            "timeout": "30s",
            "expr": "__import__('os')",
        },
    }


def test_env_underscores_match_hyphenated_keys(isolated):
    cfg.refresh(env={"SHOAL_ARRAY__CHUNK_SIZE": "64MiB", "SHOAL_TEMPORARY_DIRECTORY": "/scratch"})
    assert cfg.config["array"]["chunk-size"] == "64MiB"
    assert "chunk_size" not in cfg.config["array"]
    assert cfg.config["temporary-directory"] == "/scratch"
    assert cfg.get("array.rechunk.method") == "tasks"  # siblings untouched


def test_refresh_reads_os_environ(isolated, monkeypatch):
    monkeypatch.setenv("SHOAL_DISTRIBUTED__WORKER__MEMORY__TARGET", "0.5")
    cfg.refresh()
    assert cfg.get("distributed.worker.memory.target") == 0.5
    assert cfg.get("distributed.worker.memory.spill") == 0.7


# --- YAML files ---------------------------------------------------------------


def test_yaml_files_in_shoal_config_dir(isolated, monkeypatch):
    extra = isolated / "extra"
    write(extra / "b.yml", "array:\n  chunk-size: 32MiB\n")
    write(extra / "a.yaml", "array:\n  chunk-size: 16MiB\nscheduler: sync\n")
    write(extra / "ignored.txt", "scheduler: processes\n")
    write(extra / "empty.yaml", "# only a comment\n")
    monkeypatch.setenv("SHOAL_CONFIG", str(extra))
    cfg.refresh()
    assert cfg.get("array.chunk-size") == "32MiB"  # b.yml sorts after a.yaml and wins
    assert cfg.get("scheduler") == "sync"
    assert cfg.get("array.rechunk.method") == "tasks"


def test_collect_reads_given_paths_files_and_dirs(tmp_path):
    single = write(tmp_path / "single.yaml", "x: 1\n")
    write(tmp_path / "d" / "c.yaml", "y: {z: 2}\n")
    found = cfg.collect(paths=[str(single), str(tmp_path / "d"), str(tmp_path / "missing")], env={})
    assert found == {"x": 1, "y": {"z": 2}}


def test_precedence_defaults_user_dir_config_dir_env(isolated, monkeypatch):
    home = Path(cfg.paths[0])
    write(home / "user.yaml", "scheduler: sync\nnum_workers: 2\npool: user\n")
    extra = isolated / "extra"
    write(extra / "site.yaml", "scheduler: threads\nnum-workers: 3\n")
    monkeypatch.setenv("SHOAL_CONFIG", str(extra))
    monkeypatch.setenv("SHOAL_SCHEDULER", "processes")
    cfg.refresh()
    assert cfg.get("scheduler") == "processes"  # env beats every file
    assert cfg.get("num-workers") == 3  # $SHOAL_CONFIG beats ~/.config/shoal
    assert cfg.get("pool") == "user"  # user file beats package default
    assert cfg.get("shuffle") is None  # package default
    with cfg.set(scheduler="sync"):
        assert cfg.get("scheduler") == "sync"  # set beats everything
    assert cfg.get("scheduler") == "processes"


def test_refresh_discards_set_values(isolated):
    cfg.set(scheduler="threads")
    cfg.refresh()
    assert cfg.get("scheduler") is None


def test_bad_yaml_raises_config_error_naming_file(isolated, monkeypatch):
    extra = isolated / "extra"
    bad = write(extra / "broken.yaml", "array:\n  chunk-size: [1, 2\n")
    monkeypatch.setenv("SHOAL_CONFIG", str(extra))
    before = copy.deepcopy(cfg.config)
    with pytest.raises(ConfigError, match="broken.yaml") as info:
        cfg.refresh()
    assert str(bad) in str(info.value)
    assert "line" in str(info.value)  # the YAML error's position is included
    assert isinstance(info.value, ShoalError) and isinstance(info.value, ValueError)
    assert cfg.config == before  # a failed refresh leaves config as it was


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_non_mapping_yaml_raises_config_error(tmp_path, text):
    path = write(tmp_path / "list.yaml", text)
    with pytest.raises(ConfigError, match="list.yaml.*mapping"):
        cfg.collect(paths=[str(path)], env={})


def test_config_error_pickles(tmp_path):
    path = write(tmp_path / "x.yaml", "[1, 2]\n")
    with pytest.raises(ConfigError) as info:
        cfg.collect(paths=[str(path)], env={})
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is ConfigError and str(clone) == str(info.value)


# --- get ----------------------------------------------------------------------


def test_get_dotted_and_default():
    c = {"a": {"b": {"c": 1}}, "n": None}
    assert cfg.get("a.b.c", config=c) == 1
    assert cfg.get("a.b", config=c) == {"c": 1}
    assert cfg.get("n", config=c) is None
    assert cfg.get("a.x", default=None, config=c) is None
    assert cfg.get("a.b.c.d", default="dflt", config=c) == "dflt"
    assert cfg.get("a.b.c", override_with=5, config=c) == 5
    assert cfg.get("a.b.c", override_with=None, config=c) == 1


def test_get_hyphen_underscore_equivalence():
    assert cfg.get("array.chunk_size") == cfg.get("array.chunk-size") == "128MiB"
    assert cfg.get("distributed.worker.memory.target") == 0.6
    assert cfg.get("temporary_directory") is None
    assert cfg.get("num-workers") is None


def test_get_missing_key_suggests_close_spelling():
    with pytest.raises(KeyError) as info:
        cfg.get("array.chunk-sise")
    message = str(info.value)
    assert "'array'" in message and "'chunk-sise'" in message
    assert "Did you mean 'array.chunk-size'" in message


def test_get_missing_key_suggests_key_elsewhere_in_tree():
    with pytest.raises(KeyError, match="Did you mean 'distributed.worker.memory.target'"):
        cfg.get("worker.memory.target")


def test_get_missing_key_without_suggestion():
    with pytest.raises(KeyError) as info:
        cfg.get("zzzz-qqqq-unrelated")
    assert "the top level" in str(info.value)
    assert "Did you mean" not in str(info.value)


def test_get_through_non_mapping():
    with pytest.raises(KeyError, match="'scheduler' holds None"):
        cfg.get("scheduler.name")


# --- set ----------------------------------------------------------------------


def test_set_context_manager_restores():
    with cfg.set(scheduler="threads", array__chunk_size="64MiB") as c:
        assert c is cfg.config
        assert cfg.get("scheduler") == "threads"
        assert cfg.config["array"]["chunk-size"] == "64MiB"
        assert "chunk_size" not in cfg.config["array"]  # written to the existing spelling
    assert cfg.get("scheduler") is None
    assert cfg.get("array.chunk-size") == "128MiB"


def test_set_dotted_dict_keys():
    with cfg.set({"distributed.worker.memory.target": 0.5, "array.chunk_size": "1MiB"}):
        assert cfg.get("distributed.worker.memory.target") == 0.5
        assert cfg.get("distributed.worker.memory.spill") == 0.7
        assert cfg.config["array"]["chunk-size"] == "1MiB"
    assert cfg.get("distributed.worker.memory.target") == 0.6


def test_set_removes_keys_that_did_not_exist():
    before = copy.deepcopy(cfg.config)
    with cfg.set({"brand-new.nested.key": 1, "array.new-option": 2, "top-new": 3}):
        assert cfg.get("brand-new.nested.key") == 1
        assert cfg.get("array.new_option") == 2
    assert "brand-new" not in cfg.config
    assert "new-option" not in cfg.config["array"]
    assert "top-new" not in cfg.config
    assert cfg.config == before


def test_set_restores_on_exception():
    before = copy.deepcopy(cfg.config)
    with pytest.raises(RuntimeError, match="boom"):
        with cfg.set(scheduler="sync", new__key=1):
            raise RuntimeError("boom")
    assert cfg.config == before


def test_nested_sets_restore_in_order():
    with cfg.set(scheduler="a", x__y=1):
        with cfg.set(scheduler="b", x__y=2, x__z=3):
            assert cfg.get("scheduler") == "b" and cfg.get("x") == {"y": 2, "z": 3}
        assert cfg.get("scheduler") == "a" and cfg.get("x") == {"y": 1}
    assert cfg.get("scheduler") is None and "x" not in cfg.config


def test_set_same_key_twice_in_one_call_restores_original():
    with cfg.set({"scheduler": "a"}, scheduler="b"):
        assert cfg.get("scheduler") == "b"
    assert cfg.get("scheduler") is None


def test_set_replaces_subtree_and_restores_it():
    original = cfg.config["distributed"]["worker"]
    with cfg.set({"distributed.worker": {"daemon": False}}):
        assert cfg.get("distributed.worker") == {"daemon": False}
    assert cfg.config["distributed"]["worker"] is original


def test_set_through_non_mapping_value_restores_it():
    with cfg.set(scheduler__name="x"):
        assert cfg.get("scheduler") == {"name": "x"}
    assert cfg.get("scheduler") is None


def test_global_set_persists():
    cfg.set(scheduler="processes")
    assert cfg.get("scheduler") == "processes"
    cfg.set({"new.key": 1})
    assert cfg.get("new.key") == 1


def test_set_accepts_any_value():
    with cfg.set(scheduler=123):  # validated where the scheduler is chosen, not here
        assert cfg.get("scheduler") == 123


def test_set_on_custom_config_leaves_global_alone():
    c: dict[str, Any] = {"a-b": 1}
    with cfg.set(a_b=2, config=c):
        assert c == {"a-b": 2}
        assert "a-b" not in cfg.config
    assert c == {"a-b": 1}


def test_set_bad_key_applies_nothing():
    before = copy.deepcopy(cfg.config)
    with pytest.raises(AttributeError):
        cfg.set({"scheduler": "sync", 3: "not a string key"})  # type: ignore[dict-item]
    assert cfg.config == before


def test_set_is_thread_safe():
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            for j in range(200):
                with cfg.set({f"thread-{i}.value": j, "array.chunk-size": "1MiB"}):
                    assert cfg.get(f"thread_{i}.value") == j
                cfg.get("distributed.worker.memory.target")
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert not any(k.startswith("thread-") for k in cfg.config)


# --- update, merge, helpers ---------------------------------------------------


def test_update_priorities():
    assert cfg.update({"a": {"b": 1}}, {"a": {"b": 2, "c": 3}}) == {"a": {"b": 2, "c": 3}}
    assert cfg.update({"a": {"b": 1}}, {"a": {"b": 2, "c": 3}}, priority="old") == {
        "a": {"b": 1, "c": 3}
    }
    assert cfg.update({"a-b": 1}, {"a_b": 2}) == {"a-b": 2}
    with pytest.raises(ValueError, match="priority"):
        cfg.update({}, {}, priority="newest")  # type: ignore[arg-type]


def test_update_does_not_share_nested_dicts():
    new = {"a": {"b": 1}}
    old = cfg.update({}, new)
    old["a"]["b"] = 2
    assert new == {"a": {"b": 1}}


def test_merge():
    a = {"x": {"y": 1, "z": 2}}
    b = {"x": {"y": 3}, "w": 4}
    assert cfg.merge(a, b) == {"x": {"y": 3, "z": 2}, "w": 4}
    assert a == {"x": {"y": 1, "z": 2}}  # inputs untouched
    assert cfg.merge() == {}


def test_canonical_name():
    assert cfg.canonical_name("a_b", {"a-b": 1}) == "a-b"
    assert cfg.canonical_name("a-b", {"a_b": 1}) == "a_b"
    assert cfg.canonical_name("a_b", {"a_b": 1, "a-b": 2}) == "a_b"  # exact match wins
    assert cfg.canonical_name("a_b", {}) == "a_b"
    assert cfg.canonical_name(1, {}) == 1


def test_update_defaults_keeps_user_changes(isolated):
    cfg.set(scheduler="threads")
    cfg.update_defaults({"scheduler": "sync", "pool": "new", "mylib": {"option": 1}})
    assert cfg.get("scheduler") == "threads"  # user changed it: kept
    assert cfg.get("pool") == "new"  # still the old default: replaced
    assert cfg.get("mylib.option") == 1
    cfg.refresh()  # the new defaults survive a refresh
    assert cfg.get("mylib.option") == 1
    assert cfg.get("scheduler") == "sync"


def test_pop():
    cfg.set({"tmp.a-b": 1, "tmp.c": 2})
    assert cfg.pop("tmp.a_b") == 1
    assert cfg.get("tmp") == {"c": 2}
    assert cfg.pop("tmp.missing", default=None) is None
    with pytest.raises(KeyError, match="tmp.missing"):
        cfg.pop("tmp.missing")


def test_rename():
    c = {"old": {"name": 1}, "keep": 2}
    cfg.rename({"old.name": "new.sub.name", "absent": "other"}, config=c)
    assert c == {"old": {}, "keep": 2, "new": {"sub": {"name": 1}}}


def test_expand_environment_variables(monkeypatch):
    monkeypatch.setenv("SHOAL_TEST_DIR", "/scratch")
    data = {"a": "$SHOAL_TEST_DIR/x", "b": ["${SHOAL_TEST_DIR}", 1], "c": ("$SHOAL_TEST_DIR",)}
    assert cfg.expand_environment_variables(data) == {
        "a": "/scratch/x",
        "b": ["/scratch", 1],
        "c": ("/scratch",),
    }
    assert data["a"] == "$SHOAL_TEST_DIR/x"  # returns a copy
    assert cfg.expand_environment_variables(None) is None


def test_no_default_repr():
    assert repr(cfg.no_default) == "<no_default>"


# --- shoal.utils: parse_bytes, parse_timedelta, format_bytes ------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("128MiB", 128 * 2**20),
        ("128 MiB", 128 * 2**20),
        ("128mib", 128 * 2**20),
        ("5kB", 5000),
        ("5 KB", 5000),
        ("1.5 KiB", 1536),
        ("2GB", 2 * 10**9),
        ("1 TiB", 2**40),
        ("1PB", 10**15),
        ("100", 100),
        ("100 B", 100),
        ("1e6", 10**6),
        ("MB", 10**6),
        ("64M", 64 * 10**6),
        ("64Mi", 64 * 2**20),
        (".5 kB", 500),
        (1024, 1024),
        (1.5e3, 1500),
    ],
)
def test_parse_bytes(text, expected):
    assert parse_bytes(text) == expected
    assert isinstance(parse_bytes(text), int)


@pytest.mark.parametrize(
    "bad",
    ["5 foos", "", "   ", "MiB5", "1 2 MB", "-5MB", -1, True, None, [1], float("nan"), float("inf")],
)
def test_parse_bytes_errors(bad):
    with pytest.raises(ValueError) as info:
        parse_bytes(bad)
    message = str(info.value)
    assert repr(bad) in message  # says what it got
    assert "'128MiB'" in message  # and shows a good value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30s", 30.0),
        ("20ms", 0.02),
        ("1.5 s", 1.5),
        ("2 minutes", 120.0),
        ("2min", 120.0),
        ("1h", 3600.0),
        ("1 hour", 3600.0),
        ("1d", 86400.0),
        ("500us", 5e-4),
        ("10 ns", 1e-8),
        ("3", 3.0),
        ("1 second", 1.0),
        (5, 5.0),
        (0.25, 0.25),
        (timedelta(minutes=1), 60.0),
    ],
)
def test_parse_timedelta(value, expected):
    result = parse_timedelta(value)
    assert result == pytest.approx(expected)
    assert isinstance(result, float)


def test_parse_timedelta_default_unit_and_none():
    assert parse_timedelta(3, default="ms") == pytest.approx(0.003)
    assert parse_timedelta("3", default="ms") == pytest.approx(0.003)
    assert parse_timedelta("3s", default="ms") == 3.0
    assert parse_timedelta(None) is None
    with pytest.raises(ValueError, match="default time unit 'parsecs'"):
        parse_timedelta(1, default="parsecs")


@pytest.mark.parametrize("bad", ["5 fortnights", "", "s5", "-1s", -2, "1 2 s", True, [1]])
def test_parse_timedelta_errors(bad):
    with pytest.raises(ValueError) as info:
        parse_timedelta(bad)
    message = str(info.value)
    assert repr(bad) in message
    assert "'30s'" in message


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "0 B"),
        (12, "12 B"),
        (1000, "1000 B"),
        (1024, "1.00 kiB"),
        (1500, "1.46 kiB"),
        (2**20, "1.00 MiB"),
        (int(1.5 * 2**30), "1.50 GiB"),
        (2**40, "1.00 TiB"),
        (3 * 2**50, "3.00 PiB"),
        (2**60, "1024.00 PiB"),
    ],
)
def test_format_bytes(n, expected):
    assert format_bytes(n) == expected


def test_format_bytes_round_trips_through_parse_bytes():
    for n in [1, 2**10, 5 * 2**20, 7 * 2**30]:
        assert parse_bytes(format_bytes(n)) == n


def test_format_bytes_rejects_non_numbers():
    with pytest.raises(ValueError, match="'1MiB'.*1048576|1048576.*'1MiB'"):
        format_bytes("1MiB")  # type: ignore[arg-type]


def test_get_with_default_skips_building_the_error_message(monkeypatch):
    # The suggestion search walks the whole config; get(key, default) is on hot paths.
    def fail(*args: Any) -> str:
        raise AssertionError("message built for a lookup with a default")

    monkeypatch.setattr(cfg, "_missing_message", fail)
    assert cfg.get("array.no-such-key", default=1) == 1
    assert cfg.pop("array.no-such-key", default=2) == 2
