"""Scripts written for wandb (``import trackio as wandb``), ``trackio.config`` semantics, ``context_vars``
and logging from threads: the surface real client code touches besides transformers/accelerate.

No optional extra needed (numpy and Pillow come with ``dev``).
"""

from __future__ import annotations

import contextvars
import json
import threading
import textwrap

import pytest

from conftest import db_rows, run_python


def _config(trackio_dir, project, run_name):
    (text,) = db_rows(trackio_dir, project, "SELECT config FROM configs WHERE run_name = ?", (run_name,))[0]
    return json.loads(text)


def test_wandb_style_script_end_to_end(trackio_dir):
    """The migration guide's script, run as a real program in its own interpreter."""
    script = textwrap.dedent("""
        import numpy as np
        import trackio as wandb

        run = wandb.init(project="wandb-style", name="mnist-like", config={"learning_rate": 0.01, "epochs": 3})
        assert wandb.config is run.config
        lr = wandb.config.learning_rate          # attribute access (upstream 0.43 fails here)
        wandb.config.batch_size = 64             # attribute set
        wandb.config["optimizer"] = "adam"       # item set
        wandb.config.update({"dropout": 0.1}, allow_val_change=True)
        for epoch in range(wandb.config.epochs):
            loss = 1.0 / (epoch + 1)
            wandb.log({"loss": loss, "lr": lr, "nested": {"acc": 0.5 + epoch / 10}})
            run.log({"val_loss": loss * 1.1}, step=epoch)
        wandb.log({"examples": wandb.Table(columns=["x", "y"], data=[[1, "a"], [2, "b"]]),
                   "image": wandb.Image(np.zeros((4, 4, 3), dtype=np.uint8), caption="zeros")})
        wandb.alert("Done", "trained 3 epochs", level=wandb.AlertLevel.INFO)
        wandb.finish()
        try:
            wandb.log({"late": 1})
        except RuntimeError as e:
            print("AFTER-FINISH:", e)
        print("RUN:", run.id, run.name, run.project, run.url, run._space_id, run.group)
    """)
    proc = run_python(script)
    assert proc.returncode == 0, proc.stderr
    assert "AFTER-FINISH: Call trackio.init() before trackio.log()." in proc.stdout
    run_line = next(line for line in proc.stdout.splitlines() if line.startswith("RUN:"))
    _, run_id, name, project, url, space, group = run_line.split()
    assert (name, project, url, space, group) == ("mnist-like", "wandb-style", "None", "None", "None")
    assert "[TRACKIO INFO] Done: trained 3 epochs (step 3)" in proc.stdout

    rows = db_rows(trackio_dir, "wandb-style", "SELECT run_id, step, metrics FROM metrics ORDER BY id")
    assert all(r[0] == run_id for r in rows)
    got = [(s, json.loads(m)) for _, s, m in rows]
    assert got[:6] == [
        (0, {"loss": 1.0, "lr": 0.01, "nested/acc": 0.5}), (0, {"val_loss": 1.1}),
        (1, {"loss": 0.5, "lr": 0.01, "nested/acc": 0.6}), (1, {"val_loss": 0.55}),
        (2, {"loss": 1 / 3, "lr": 0.01, "nested/acc": 0.7}), (2, {"val_loss": 1 / 3 * 1.1}),
    ]
    step, media = got[6]
    assert step == 3
    assert media["examples"] == {"_type": "trackio.table", "_value": [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]}
    assert media["image"]["_type"] == "trackio.image" and media["image"]["caption"] == "zeros"
    assert (trackio_dir / "media" / media["image"]["file_path"]).is_file()

    config = _config(trackio_dir, "wandb-style", "mnist-like")
    user = {k: v for k, v in config.items() if not k.startswith("_")}
    assert user == {"learning_rate": 0.01, "epochs": 3, "batch_size": 64, "optimizer": "adam", "dropout": 0.1}
    assert db_rows(trackio_dir, "wandb-style", "SELECT title, text, level, step FROM alerts") == [
        ("Done", "trained 3 epochs", "info", 3)]


def test_config_attribute_and_item_access(trackio_dir):
    import trackio

    before = trackio.config
    before["ignored"] = 1  # unbound before init: never persisted, never merged later
    run = trackio.init(project="cfg", name="r", config={"lr": 0.1, "layers": [1, 2]})
    assert trackio.config is run.config and trackio.config is not before
    assert isinstance(trackio.config, dict)
    assert trackio.config.lr == 0.1 and trackio.config["layers"] == [1, 2]
    with pytest.raises(AttributeError):
        trackio.config.missing
    with pytest.raises(AttributeError):
        trackio.config._private = 1
    trackio.config.update({"wd": 0.01}, allow_val_change=True)
    trackio.config.update(warmup=10)
    trackio.log({"x": 1})
    trackio.config["late"] = "after the first log"  # upstream loses this; we persist it
    trackio.finish()
    trackio.config["after_finish"] = True  # stays in memory only
    config = _config(trackio_dir, "cfg", "r")
    assert {k: v for k, v in config.items() if not k.startswith("_")} == {
        "lr": 0.1, "layers": [1, 2], "wd": 0.01, "warmup": 10, "late": "after the first log"}
    assert json.loads(json.dumps(trackio.config))["after_finish"] is True


def test_context_vars_follow_init_and_finish(trackio_dir, monkeypatch):
    import trackio
    from trackio import context_vars

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # no test reaches the real Hub
    assert context_vars.current_run.get() is None
    with pytest.warns(UserWarning, match="could not sync project 'ctx'"):
        run = trackio.init(project="ctx", name="a", space_id="me/space")
        assert context_vars.current_run.get() is run
        assert context_vars.current_project.get() == "ctx"
        assert context_vars.current_space_id.get() == "me/space" == run._space_id
        assert run.url == "http://127.0.0.1:9/spaces/me/space"
        trackio.finish()
    assert (context_vars.current_run.get(), context_vars.current_project.get(),
            context_vars.current_space_id.get()) == (None, None, None)
    run2 = trackio.init(project="ctx", name="b")
    assert context_vars.current_run.get() is run2 and run2._space_id is None and run2.url is None
    trackio.finish()


def test_logging_from_plain_and_copied_context_threads(trackio_dir):
    """A plain thread after ``init`` in the main thread falls back to the process-wide run (upstream
    raises); a thread replaying ``copy_context()`` (TRL's async GRPO) sees the run in ``current_run``."""
    import trackio

    run = trackio.init(project="threads", name="t")
    seen = {}
    errors = []

    def plain():
        try:
            seen["plain"] = trackio.context_vars.current_run.get()
            for i in range(50):
                trackio.log({"thread/plain": i})
            trackio.alert("from a thread", level="warn")
        except Exception as e:  # pragma: no cover - the assertion below reports it
            errors.append(e)

    def copied():
        seen["copied"] = trackio.context_vars.current_run.get()
        trackio.log({"rollouts": [trackio.Trace(messages=[{"role": "user", "content": "hi"}],
                                                metadata={"reward": 1.0})]}, step=7)

    threads = [threading.Thread(target=plain), threading.Thread(target=contextvars.copy_context().run,
                                                                  args=(copied,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    trackio.finish()
    assert not errors, errors
    assert seen == {"plain": None, "copied": run}
    values = [json.loads(m) for (m,) in db_rows(trackio_dir, "threads", "SELECT metrics FROM metrics ORDER BY id")]
    assert [v["thread/plain"] for v in values if "thread/plain" in v] == list(range(50))
    (trace_row,) = [v for v in values if "rollouts" in v]
    assert trace_row["rollouts"] == [{"_type": "trackio.trace", "messages": [{"role": "user", "content": "hi"}],
                                      "metadata": {"reward": 1.0}}]
    assert db_rows(trackio_dir, "threads", "SELECT title, level FROM alerts") == [("from a thread", "warn")]


def test_resume_allow_after_finish_continues_the_run(trackio_dir):
    """The transformers pattern: finish(), then init(resume="allow") with the same name."""
    import trackio

    first = trackio.init(project="resume", name="same", resume="allow", config={"a": 1})
    trackio.log({"x": 0})
    trackio.log({"x": 1})
    trackio.finish()
    second = trackio.init(project="resume", name="same", resume="allow")
    assert second.id == first.id and trackio.config["a"] == 1
    trackio.config.update({"b": 2}, allow_val_change=True)
    trackio.log({"x": 2})
    trackio.finish()
    assert db_rows(trackio_dir, "resume", "SELECT step FROM metrics ORDER BY id") == [(0,), (1,), (2,)]
    assert db_rows(trackio_dir, "resume", "SELECT count(*), max(status) FROM runs") == [(1, "finished")]
    config = _config(trackio_dir, "resume", "same")
    assert (config["a"], config["b"]) == (1, 2)


def test_optuna_style_string_values_and_explicit_steps(trackio_dir):
    """optuna-integration logs params with ``step=trial.number`` and string states; TRL mixes explicit
    steps that lag the implicit counter with step-less rows."""
    import trackio

    trackio.init(project="optuna", name="study")
    trackio.log({"x": 0.5, "value": 1.25, "trial_number": 0}, step=0)
    trackio.log({"trial_state": "pruned"})
    trackio.log({"profiling/Time taken: T.step": 0.01}, step=0)
    trackio.log({"train/loss": 1.0})
    trackio.finish()
    rows = db_rows(trackio_dir, "optuna", "SELECT step, metrics FROM metrics ORDER BY id")
    assert [s for s, _ in rows] == [0, 1, 0, 2]
    assert json.loads(rows[1][1]) == {"trial_state": "pruned"}
