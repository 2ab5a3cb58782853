"""init(): validation, resume modes, names, console lines, config persistence (contract §1.2–1.5)."""

from __future__ import annotations

import json
import time

import pytest
from conftest import db_rows

import trackio


def _runs(d, project="p"):
    return db_rows(d, project, "SELECT id, name, status, group_name FROM runs ORDER BY rowid")


def _config(d, run_id, project="p"):
    (text,) = db_rows(d, project, "SELECT config FROM configs WHERE run_id=?", (run_id,))[0]
    return json.loads(text)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"resume": "sometimes"}, "resume must be one of: 'must', 'allow', or 'never'"),
        ({"resume": "must"}, "Must provide a run name when resume='must'"),
        ({"config": {"_secret": 1}}, "Config key '_secret' is reserved (keys starting with '_' are reserved for internal use)"),
        ({"webhook_min_level": "bogus"}, "Invalid alert level 'bogus'. Expected one of: info, warn, error."),
    ],
)
def test_validation_errors_before_any_output_or_write(trackio_dir, capsys, kwargs, message):
    with pytest.raises(ValueError) as e:
        trackio.init(project="p", **kwargs)
    assert str(e.value) == message
    assert capsys.readouterr().out == ""
    assert not trackio_dir.exists()


@pytest.mark.parametrize(
    "project, message",
    [
        ("registry-x", "Project name 'registry-x' is not allowed: names starting with 'registry-' are reserved."),
        ("foo_system", "Project name 'foo_system' is not allowed: the suffix '_system' is reserved "
                       "(it would collide with files kept for project 'foo')."),
        ("a.b_run_artifact_links", "Project name 'a.b_run_artifact_links' is not allowed: the suffix "
                                   "'_run_artifact_links' is reserved (it would collide with files kept for project 'ab')."),
    ],
)
def test_reserved_project_names(trackio_dir, project, message):
    with pytest.raises(ValueError) as e:
        trackio.init(project=project)
    assert str(e.value) == message
    assert not trackio_dir.exists()


def test_bare_suffix_is_a_valid_project(trackio_dir):
    trackio.init(project="_system")
    trackio.finish()
    assert (trackio_dir / "_system.db").exists()


def test_webhook_min_level_from_environment_is_validated(trackio_dir, monkeypatch):
    monkeypatch.setenv("TRACKIO_WEBHOOK_MIN_LEVEL", "bogus")
    with pytest.raises(ValueError, match=r"^Invalid alert level 'bogus'\. Expected one of: info, warn, error\.$"):
        trackio.init(project="p")


def test_project_name_maps_to_file(trackio_dir):
    trackio.init(project="my.model/ünï run")
    trackio.finish()
    assert [p.name for p in trackio_dir.glob("*.db")] == ["mymodelünïrun.db"]
    run = trackio.init(project="...")
    trackio.finish()
    assert (trackio_dir / "default.db").exists() and run.project == "..."


def test_run_exists_on_disk_when_init_returns(trackio_dir):
    run = trackio.init(project="p", name="only-init", config={"lr": 0.1, "model": {"depth": 50}})
    assert _runs(trackio_dir) == [(run.id, "only-init", "running", None)]
    cfg = _config(trackio_dir, run.id)
    assert cfg["lr"] == 0.1 and cfg["model"] == {"depth": 50}
    assert list(cfg)[-3:] == ["_Username", "_Created", "_Group"]
    assert cfg["_Username"] is None and cfg["_Group"] is None
    assert db_rows(trackio_dir, "p", "PRAGMA user_version") == [(2,)]
    assert db_rows(trackio_dir, "p", "PRAGMA journal_mode") == [("wal",)]
    trackio.finish()
    assert _runs(trackio_dir) == [(run.id, "only-init", "finished", None)]


def test_console_lines(trackio_dir, capsys):
    quiet = {"auto_log_cpu": False, "auto_log_gpu": False}  # sampler notes are tested with the samplers
    trackio.init(project="vision-exp", name="baseline", **quiet)
    trackio.finish()
    trackio.init(project="vision-exp", name="baseline", **quiet)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "* Trackio project initialized: vision-exp",
        f"* Trackio metrics logged to: {trackio_dir}",
        "* View dashboard by running in your terminal:",
        'trackio show --project "vision-exp"',
        '* or by running in Python: trackio.show(project="vision-exp")',
        "* Created new run: baseline",
        "* Run finished. Uploading logs to Trackio (please wait...)",
        "* Created new run: baseline",
        "* A run named 'baseline' already exists in project 'vision-exp'; created a new run with the same "
        'name. Pass resume="allow" to continue the existing run.',
    ]


def test_auto_names_are_deterministic(trackio_dir):
    import random

    names = []
    for seed in (1, 2, 3):
        random.seed(seed)
        names.append(trackio.init(project="p").name)
    trackio.finish()
    assert names == ["dainty-sunset-0", "brave-forest-1", "calm-river-2"]
    assert trackio.init(project="p", name="").name == "eager-mountain-3"


def test_resume_modes(trackio_dir, capsys):
    first = trackio.init(project="p", name="r", config={"lr": 0.1, "keep": True}, group="g1")
    trackio.log({"x": 1})
    trackio.log({"x": 2})
    trackio.finish()
    created = _config(trackio_dir, first.id)["_Created"]
    time.sleep(0.01)

    again = trackio.init(project="p", name="r", resume="allow", config={"lr": 0.2})
    assert again.id == first.id
    assert "* Resumed existing run: r" in capsys.readouterr().out
    assert again.config["lr"] == 0.2 and again.config["keep"] is True
    assert again.config["_Created"] == created and again.config["_Group"] == "g1" and again.group == "g1"
    trackio.log({"x": 3})
    trackio.finish()
    assert db_rows(trackio_dir, "p", "SELECT step FROM metrics ORDER BY id") == [(0,), (1,), (2,)]
    stored = _config(trackio_dir, first.id)
    assert stored["lr"] == 0.2 and stored["keep"] is True and stored["_Created"] == created
    assert "allow_val_change" not in stored

    must = trackio.init(project="p", name="r", resume="must", group="g2")
    assert must.id == first.id and must.config["_Group"] == "g2"
    trackio.finish()
    with pytest.raises(ValueError, match=r"^Run 'ghost' does not exist in project 'p'$"):
        trackio.init(project="p", name="ghost", resume="must")

    fresh = trackio.init(project="p", name="new", resume="allow")
    assert fresh.id != first.id and fresh.name == "new"
    trackio.finish()
    dup = trackio.init(project="p", name="r")
    assert dup.id != first.id
    trackio.finish()
    assert [r[1] for r in _runs(trackio_dir)] == ["r", "new", "r"]


def test_resume_attaches_to_the_newest_of_a_name(trackio_dir):
    trackio.init(project="p", name="r")
    trackio.log({"a": 1}, step=10)
    trackio.finish()
    newer = trackio.init(project="p", name="r")
    trackio.finish()
    again = trackio.init(project="p", name="r", resume="allow")
    assert again.id == newer.id
    trackio.log({"a": 2})
    trackio.finish()
    assert db_rows(trackio_dir, "p", "SELECT step FROM metrics WHERE run_id=?", (newer.id,)) == [(0,)]


def test_second_init_finishes_the_first(trackio_dir, capsys):
    a = trackio.init(project="p", name="a")
    trackio.log({"v": 1})
    b = trackio.init(project="q", name="b")
    out = capsys.readouterr().out
    assert "* Run finished. Uploading logs to Trackio (please wait...)" in out
    assert db_rows(trackio_dir, "p", "SELECT status FROM runs WHERE id=?", (a.id,)) == [("finished",)]
    assert db_rows(trackio_dir, "p", "SELECT COUNT(*) FROM metrics") == [(1,)]
    assert trackio.context_vars.current_run.get() is b
    trackio.finish()


def test_unsupported_kwargs_warn_and_unknown_kwargs_raise(trackio_dir):
    with pytest.warns(UserWarning) as record:
        trackio.init(project="p", bucket_id="b", dataset_id="d", server_url="http://x", settings=object(),
                     private=True, embed=False)
    texts = [str(w.message) for w in record]
    assert "bucket_id is not supported by this trackio (local storage only); ignoring it." in texts
    assert "dataset_id is not supported by this trackio (local storage only); ignoring it." in texts
    assert "server_url is not supported by this trackio (local storage only); ignoring it." in texts
    assert "* Warning: settings is not used. Provided for compatibility with wandb.init()." in texts
    trackio.finish()
    with pytest.raises(TypeError):
        trackio.init(project="p", tags=["x"])


def test_config_persistence_and_attribute_access(trackio_dir):
    before = trackio.config
    before["lost"] = 1  # unbound config: never persisted, never merged
    run = trackio.init(project="p", name="c", config={"lr": 0.1})
    assert trackio.config is run.config and trackio.config is not before
    assert isinstance(trackio.config, dict) and json.loads(json.dumps(trackio.config))["lr"] == 0.1
    trackio.config.update({"batch": 32, "betas": (0.9, 0.99)}, allow_val_change=True)
    trackio.config["model/num_parameters"] = 1234
    trackio.config.epochs = 3
    assert trackio.config.lr == 0.1 and trackio.config.epochs == 3
    with pytest.raises(AttributeError):
        trackio.config.missing  # noqa: B018
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cfg = _config(trackio_dir, run.id)
        if cfg.get("epochs") == 3:
            break
        time.sleep(0.02)
    assert cfg["batch"] == 32 and cfg["betas"] == [0.9, 0.99] and cfg["model/num_parameters"] == 1234
    assert "allow_val_change" not in cfg and "lost" not in cfg
    trackio.finish()
    trackio.config["after"] = 1  # after finish: memory only
    assert "after" not in _config(trackio_dir, run.id)
    assert trackio.config is run.config


def test_config_object_values_are_made_json_safe(trackio_dir):
    import enum

    class Color(enum.Enum):
        RED = "red"

    class Peft:
        def __init__(self):
            self.r = 8
            self.alpha = float("nan")
            self._private = 1

    run = trackio.init(project="p", config={"peft": Peft(), "tags": {"a"}, "c": Color.RED, "f": float("inf")})
    trackio.config.update({"obj": object.__new__(type("Thing", (), {"__slots__": ()}))})
    trackio.finish()
    cfg = _config(trackio_dir, run.id)
    assert cfg["peft"] == {"r": 8, "alpha": "NaN"} and cfg["tags"] == ["a"] and cfg["c"] == "red"
    assert cfg["f"] == "Infinity" and cfg["obj"].startswith("<")


def test_context_vars_and_thread_fallback(trackio_dir):
    import threading

    from trackio import context_vars

    assert context_vars.current_run.get() is None
    run = trackio.init(project="p", name="t", space_id=None)
    assert context_vars.current_run.get() is run
    assert context_vars.current_project.get() == "p" and context_vars.current_space_id.get() is None
    seen = []

    def worker():
        seen.append(context_vars.current_run.get())
        trackio.log({"from_thread": 1})

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [None]
    trackio.finish()
    assert context_vars.current_run.get() is None and context_vars.current_project.get() is None
    assert db_rows(trackio_dir, "p", "SELECT metrics FROM metrics") == [('{"from_thread":1}',)]


def test_space_id_sets_url_and_context(trackio_dir, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("TRACKIO_SPACE_ID", "user/space")
    with pytest.warns(UserWarning, match=r"^trackio could not sync project 'p' to Space 'user/space' "):
        run = trackio.init(project="p")  # nothing listens on port 9: the background sync keeps data pending
        assert run._space_id == "user/space" and run.url == "http://127.0.0.1:9/spaces/user/space"
        assert trackio.context_vars.current_space_id.get() == "user/space"
        assert db_rows(trackio_dir, "p", "SELECT value FROM project_metadata WHERE key='space_id'") == [
            ("user/space",)]
        t0 = time.monotonic()
        trackio.finish()
    assert time.monotonic() - t0 < 15  # an unreachable Hub does not hold finish() for its full 30 s


def test_functions_before_init_raise(trackio_dir):
    for fn, call in [("log", lambda: trackio.log({"a": 1})), ("finish", trackio.finish),
                     ("alert", lambda: trackio.alert("t")), ("log_system", lambda: trackio.log_system({})),
                     ("log_cpu", trackio.log_cpu), ("log_gpu", trackio.log_gpu)]:
        with pytest.raises(RuntimeError) as e:
            call()
        assert str(e.value) == f"Call trackio.init() before trackio.{fn}()."


def test_finish_is_idempotent_and_run_log_after_finish_warns(trackio_dir, capsys):
    run = trackio.init(project="p", name="f")
    run.finish()
    run.finish()
    assert capsys.readouterr().out.count("* Run finished.") == 1
    with pytest.warns(UserWarning, match=r"^trackio.log\(\) called on finished run 'f'; values dropped\.$"):
        run.log({"a": 1})
    with pytest.raises(RuntimeError):
        trackio.log({"a": 1})
    assert db_rows(trackio_dir, "p", "SELECT COUNT(*) FROM metrics") == [(0,)]


def test_version_is_package_metadata():
    from importlib.metadata import metadata, version

    assert trackio.__version__ == version("trackio") == metadata("trackio")["Version"]
    parts = tuple(int(x) for x in trackio.__version__.split(".")[:3])
    assert parts >= (0, 43, 0)


def test_public_names_and_absent_names():
    for name in ["init", "log", "finish", "alert", "log_system", "log_cpu", "log_gpu", "show", "sync", "freeze",
                 "Run", "AlertLevel", "Table", "Image", "Histogram", "Trace", "config", "context_vars"]:
        assert hasattr(trackio, name), name
    for name in ["log_artifact", "save", "Video", "delete_project", "Artifact"]:
        with pytest.raises(AttributeError):
            getattr(trackio, name)
    from trackio import context_vars  # noqa: F401 - TRL's import form
