"""transformers' Trainer with ``report_to="trackio"`` and a TRL-style checkpoint hook, against our store.

Needs the ``clients`` extra (torch, transformers); skipped cleanly without it. Everything is offline: the
model is built from a small config and the data set is random tokens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import db_rows

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from transformers import (  # noqa: E402
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.integrations.integration_utils import rewrite_logs  # noqa: E402

SEQ = 16
TRACKIO = str(Path(sys.executable).with_name("trackio"))

# Keys TrackioCallback drops from on_log (transformers' own list of end-of-training summaries).
SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss", "total_flos"}


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    torch.set_num_threads(1)


class RandomTokens(torch.utils.data.Dataset):
    """``n`` random sequences of ``SEQ`` token ids in [0, 100) with binary labels."""

    def __init__(self, n: int, seed: int):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 100, (n, SEQ), generator=g)
        self.labels = torch.randint(0, 2, (n,), generator=g)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(SEQ, dtype=torch.long),
                "labels": self.labels[i]}


def tiny_bert():
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=37, max_position_embeddings=SEQ * 2)
    return BertForSequenceClassification(cfg)


class Recorder(TrainerCallback):
    """Records exactly what the Trainer hands to every callback's ``on_log`` / ``on_predict``.

    TrackioCallback turns each into one ``trackio.log`` call; from these records and transformers' own
    ``rewrite_logs`` the test derives the rows the store must hold.
    """

    def __init__(self):
        self.expected: list[dict] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        row = rewrite_logs({k: v for k, v in logs.items() if k not in SUMMARY_KEYS})
        self.expected.append({**row, "train/global_step": state.global_step})

    def on_predict(self, args, state, control, metrics=None, **kwargs):
        self.expected.append(rewrite_logs(dict(metrics)))


class TrlStyleModelCardHook(TrainerCallback):
    """What TRL does at every checkpoint save (``get_trackio_space_url`` in trl/trainer/utils.py):
    ``from trackio import context_vars``; read ``current_run.get()._space_id``, and only when that is
    set also ``.project`` and ``.name`` to build the Space URL."""

    def __init__(self):
        self.seen: list[tuple] = []

    def on_save(self, args, state, control, **kwargs):
        from trackio import context_vars

        run = context_vars.current_run.get()
        if run is None or run._space_id is None:
            self.seen.append((state.global_step, None if run is None else run.name, None))
            return
        url = f"https://huggingface.co/spaces/{run._space_id}?project={run.project}&runs={run.name}"
        self.seen.append((state.global_step, run.name, url))


def _args(tmp_path, **over) -> TrainingArguments:
    kw = dict(output_dir=str(tmp_path / "out"), report_to="trackio", project="hf-trainer",
              run_name="bert-tiny", max_steps=30, logging_steps=1, eval_strategy="steps", eval_steps=10,
              per_device_train_batch_size=4, per_device_eval_batch_size=8, save_strategy="no",
              use_cpu=True, disable_tqdm=True, seed=0, dataloader_num_workers=0)
    kw.update(over)
    return TrainingArguments(**kw)


def test_trainer_report_to_trackio_stores_every_logged_value(trackio_dir, tmp_path):
    import trackio

    model = tiny_bert()
    recorder = Recorder()
    trainer = Trainer(model=model, args=_args(tmp_path), train_dataset=RandomTokens(64, 1),
                      eval_dataset=RandomTokens(16, 2), callbacks=[recorder])
    trainer.train()
    # After train() TrackioCallback has called finish() and un-initialised itself, so evaluate()
    # re-inits with resume="allow" and the same name: it must attach to the same run.
    trainer.evaluate()
    trainer.predict(RandomTokens(8, 3))
    trackio.finish()  # transformers never finishes the re-initialised run itself

    assert (trackio_dir / "hf-trainer.db").is_file()
    runs = db_rows(trackio_dir, "hf-trainer", "SELECT id, name, status FROM runs")
    assert len(runs) == 1, runs
    run_id, name, status = runs[0]
    assert (name, status) == ("bert-tiny", "finished")

    stored = db_rows(trackio_dir, "hf-trainer",
                     "SELECT run_id, run_name, step, metrics FROM metrics ORDER BY id")
    # 30 training logs + 3 evals + the end-of-train row, then evaluate() and predict().
    assert len(recorder.expected) == 36
    assert [r[2] for r in stored] == list(range(36)), "implicit steps continue across the resume"
    assert all(r[0] == run_id and r[1] == "bert-tiny" for r in stored)
    assert [json.loads(r[3]) for r in stored] == recorder.expected

    keys = set().union(*(json.loads(r[3]) for r in stored))
    for key in ("train/loss", "train/grad_norm", "train/learning_rate", "train/epoch", "train/global_step",
                "eval/loss", "eval/runtime", "test/loss", "test/samples_per_second"):
        assert key in keys
    assert not keys & {"train/train_runtime", "train/total_flos", "train/train_loss"}

    (config_text,) = db_rows(trackio_dir, "hf-trainer", "SELECT config FROM configs WHERE run_id = ?", (run_id,))[0]
    config = json.loads(config_text)
    model_cfg, train_args = model.config.to_dict(), trainer.args.to_dict()
    missing = (set(model_cfg) | set(train_args)) - set(config)
    assert not missing, f"config keys not stored: {sorted(missing)}"
    for key in ("hidden_size", "num_hidden_layers", "vocab_size"):
        assert config[key] == model_cfg[key]
    for key in ("learning_rate", "max_steps", "eval_steps", "logging_steps", "seed", "run_name", "project"):
        assert config[key] == train_args[key]
    assert config["model/num_parameters"] == model.num_parameters()
    assert "allow_val_change" not in config
    assert set(config) >= {"_Username", "_Created", "_Group"}


def test_trainer_without_run_name_gets_generated_names(trackio_dir, tmp_path):
    """``run_name=None``: transformers' re-init after ``train()`` makes a second run (upstream does too)."""
    import trackio

    trainer = Trainer(model=tiny_bert(), args=_args(tmp_path, run_name=None, max_steps=4, eval_strategy="no"),
                      train_dataset=RandomTokens(16, 1), eval_dataset=RandomTokens(8, 2))
    trainer.train()
    trainer.evaluate()
    trackio.finish()
    names = [r[0] for r in db_rows(trackio_dir, "hf-trainer", "SELECT name FROM runs ORDER BY rowid")]
    assert names == ["dainty-sunset-0", "brave-forest-1"]
    counts = db_rows(trackio_dir, "hf-trainer", "SELECT run_name, count(*) FROM metrics GROUP BY run_name "
                                                "ORDER BY min(id)")
    assert counts == [("dainty-sunset-0", 5), ("brave-forest-1", 1)]


def test_trl_style_checkpoint_hook_reads_current_run(trackio_dir, tmp_path):
    hook = TrlStyleModelCardHook()
    trainer = Trainer(model=tiny_bert(), callbacks=[hook],
                      args=_args(tmp_path, run_name="ckpt", max_steps=4, eval_strategy="no",
                                 save_strategy="steps", save_steps=2, save_only_model=True),
                      train_dataset=RandomTokens(16, 1))
    trainer.train()
    # Two checkpoints, each saw the live run; no Space, so no URL (and .project/.name not needed).
    assert hook.seen == [(2, "ckpt", None), (4, "ckpt", None)]

    # TRL reads the hook whatever report_to says: with no trackio run at all, current_run is None.
    none_hook = TrlStyleModelCardHook()
    Trainer(model=tiny_bert(), callbacks=[none_hook],
            args=_args(tmp_path, report_to="none", max_steps=2, eval_strategy="no", save_strategy="steps",
                       save_steps=2, save_only_model=True),
            train_dataset=RandomTokens(8, 1)).train()
    assert none_hook.seen == [(2, None, None)]


def test_space_id_reaches_transformers_and_trl(trackio_dir, tmp_path, monkeypatch):
    """With a Space id, transformers reads ``context_vars.current_space_id`` and TRL builds its URL from
    ``run._space_id``/``.project``/``.name``. The Hub is unreachable here: transformers' post-train
    ``freeze`` fails and transformers only logs that; training and the local data are unaffected."""
    import trackio

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    seen_space = []

    class SpaceProbe(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            seen_space.append(trackio.context_vars.current_space_id.get())

    hook = TrlStyleModelCardHook()
    trainer = Trainer(model=tiny_bert(), callbacks=[SpaceProbe(), hook],
                      args=_args(tmp_path, run_name="spaced", max_steps=2, eval_strategy="no",
                                 save_strategy="steps", save_steps=2, save_only_model=True,
                                 trackio_space_id="me/tiny-space"),
                      train_dataset=RandomTokens(8, 1))
    with pytest.warns(UserWarning, match="could not sync project 'hf-trainer'"):
        trainer.train()
    assert seen_space == ["me/tiny-space"]
    assert hook.seen == [(2, "spaced", "https://huggingface.co/spaces/me/tiny-space?project=hf-trainer&runs=spaced")]
    rows = db_rows(trackio_dir, "hf-trainer", "SELECT count(*) FROM metrics WHERE run_name = 'spaced'")
    assert rows == [(3,)]
    assert db_rows(trackio_dir, "hf-trainer", "SELECT value FROM project_metadata WHERE key = 'space_id'") == [
        ("me/tiny-space",)]


def test_trainer_run_is_readable_through_the_cli(trackio_dir, tmp_path):
    import trackio

    recorder = Recorder()
    trainer = Trainer(model=tiny_bert(), args=_args(tmp_path, max_steps=12, eval_steps=6),
                      train_dataset=RandomTokens(32, 1), eval_dataset=RandomTokens(8, 2), callbacks=[recorder])
    trainer.train()
    trainer.predict(RandomTokens(8, 3))
    trackio.finish()

    def cli(*args):
        proc = subprocess.run([TRACKIO, *args, "--json"], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ))
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    assert cli("list", "projects")["projects"] == ["hf-trainer"]
    runs = cli("list", "runs", "--project", "hf-trainer")  # extra keys are allowed by the contract
    assert (runs["project"], runs["runs"]) == ("hf-trainer", ["bert-tiny"])
    run = cli("get", "run", "--project", "hf-trainer", "--run", "bert-tiny")
    keys = sorted(set().union(*recorder.expected))
    assert (run["num_logs"], run["metrics"], run["status"]) == (len(recorder.expected), keys, "finished")
    assert run["config"]["model/num_parameters"] == trainer.model.num_parameters()
    assert run["config"]["learning_rate"] == trainer.args.learning_rate
    loss = cli("get", "metric", "--project", "hf-trainer", "--run", "bert-tiny", "--metric", "train/loss")
    expected = [(i, row["train/loss"]) for i, row in enumerate(recorder.expected) if "train/loss" in row]
    assert [(v["step"], v["value"]) for v in loss["values"]] == expected
