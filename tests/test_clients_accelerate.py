"""accelerate's ``Accelerator(log_with="trackio")`` tracking a few steps of a real (tiny) training loop.

Needs the ``clients`` extra (torch, accelerate); skipped cleanly without it. accelerate only offers the
tracker when the ``trackio`` distribution's metadata is installed, so this also checks packaging.
"""

from __future__ import annotations

import json

import pytest

from conftest import db_rows

torch = pytest.importorskip("torch")
accelerate = pytest.importorskip("accelerate")


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    torch.set_num_threads(1)


def test_accelerator_log_with_trackio(trackio_dir):
    import trackio
    from accelerate import Accelerator
    from accelerate.tracking import TrackioTracker
    from accelerate.utils import is_trackio_available

    assert is_trackio_available(), "accelerate must detect the installed trackio distribution"

    accelerator = Accelerator(log_with="trackio", cpu=True)
    config = {"lr": 0.05, "epochs": 2, "optimizer": "sgd", "betas": (0.9, 0.99)}
    accelerator.init_trackers("accelerate-proj", config=config,
                              init_kwargs={"trackio": {"name": "acc-run", "group": "probe"}})
    tracker = accelerator.get_tracker("trackio", unwrap=False)
    assert isinstance(tracker, TrackioTracker)
    run = accelerator.get_tracker("trackio", unwrap=True)
    assert isinstance(run, trackio.Run) and run.name == "acc-run" and run.group == "probe"

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
    model, opt = accelerator.prepare(model, opt)
    x = torch.randn(32, 4)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    logged = []
    for step in range(10):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        accelerator.backward(loss)
        opt.step()
        values = {"train": {"loss": loss.item()}, "lr": opt.param_groups[0]["lr"]}
        accelerator.log(values, step=step)
        logged.append((step, {"train/loss": loss.item(), "lr": config["lr"]}))
    accelerator.log({"eval_loss": torch.tensor(0.25)})  # step=None → next implicit step; 0-d tensor → float
    logged.append((10, {"eval_loss": 0.25}))
    accelerator.end_training()

    assert trackio.context_vars.current_run.get() is None, "run.finish() on the object ends the run"
    rows = db_rows(trackio_dir, "accelerate-proj", "SELECT step, metrics FROM metrics ORDER BY id")
    assert [(s, json.loads(m)) for s, m in rows] == logged
    assert db_rows(trackio_dir, "accelerate-proj", "SELECT name, group_name, status FROM runs") == [
        ("acc-run", "probe", "finished")]
    stored = json.loads(db_rows(trackio_dir, "accelerate-proj", "SELECT config FROM configs")[0][0])
    assert {k: stored[k] for k in config} == {"lr": 0.05, "epochs": 2, "optimizer": "sgd", "betas": [0.9, 0.99]}
    assert stored["_Group"] == "probe" and "allow_val_change" not in stored
