"""What real clients pay for trackio, and how long the newcomer's ``trackio demo`` takes.

- transformers ``Trainer.train()`` on a tiny BERT, logging every step, with ``report_to="none"`` and
  ``report_to="trackio"`` side by side in one process (alternating, median of the repetitions): the
  tracker's share of a training step must stay small.
- ``run_demo()`` (3 runs × 600 steps of the digits MLP, in this process): the wait before a newcomer sees
  data.

Rows needing torch/transformers (the ``clients`` extra) or numpy/scikit-learn (the ``demo`` extra) are
reported as skipped when those are missing.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import tempfile
import time


@contextlib.contextmanager
def _data_dir():
    old = os.environ.get("TRACKIO_DIR")
    with tempfile.TemporaryDirectory() as d:
        os.environ["TRACKIO_DIR"] = d
        try:
            yield d
        finally:
            if old is None:
                os.environ.pop("TRACKIO_DIR", None)
            else:
                os.environ["TRACKIO_DIR"] = old


def _trainer_rows(quick: bool) -> list[tuple[str, str, str]]:
    try:
        import torch
        from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
    except ImportError:
        return [("Trainer overhead of report_to='trackio'", "skipped (no clients extra)", "≤ 1.10× none")]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    torch.set_num_threads(1)
    steps, reps = (30, 1) if quick else (100, 3)

    class Tokens(torch.utils.data.Dataset):
        def __init__(self):
            g = torch.Generator().manual_seed(0)
            self.ids, self.y = torch.randint(0, 100, (256, 16), generator=g), torch.randint(0, 2, (256,), generator=g)

        def __len__(self):
            return len(self.y)

        def __getitem__(self, i):
            return {"input_ids": self.ids[i], "labels": self.y[i]}

    def once(report_to: str, out: str) -> float:
        torch.manual_seed(0)
        model = BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                                         num_attention_heads=2, intermediate_size=37))
        args = TrainingArguments(output_dir=out, report_to=report_to, project="bench-clients", run_name=report_to,
                                 max_steps=steps, logging_steps=1, save_strategy="no", use_cpu=True,
                                 disable_tqdm=True, per_device_train_batch_size=8)
        trainer = Trainer(model=model, args=args, train_dataset=Tokens())
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            trainer.train()
            return time.perf_counter() - t0

    times: dict[str, list[float]] = {"none": [], "trackio": []}
    with _data_dir() as d:
        for _ in range(reps):
            for mode in ("none", "trackio"):
                times[mode].append(once(mode, os.path.join(d, "out")))
    none, tracked = statistics.median(times["none"]), statistics.median(times["trackio"])
    return [
        (f"Trainer.train() {steps} steps, report_to='none'", f"{none:.2f} s ({none / steps * 1e3:.1f} ms/step)", "—"),
        (f"Trainer.train() {steps} steps, report_to='trackio'", f"{tracked:.2f} s ({tracked / none:.2f}× none)",
         "≤ 1.10× none"),
    ]


def _demo_rows() -> list[tuple[str, str, str]]:
    try:
        from trackio.demo import DemoUnavailable, run_demo
    except ImportError:
        return [("run_demo() 3 runs × 600 steps", "skipped", "≤ 5 s")]
    with _data_dir(), contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        try:
            run_demo(project="bench-demo")
        except DemoUnavailable:
            return [("run_demo() 3 runs × 600 steps", "skipped (no demo extra)", "≤ 5 s")]
        took = time.perf_counter() - t0
    return [("run_demo() 3 runs × 600 steps", f"{took:.2f} s", "≤ 5 s")]


def run(quick: bool) -> list[tuple[str, str, str]]:
    return _trainer_rows(quick) + _demo_rows()
