"""``trackio demo``: real training on real data, so a newcomer sees the product with one command.

Three runs of a small multilayer perceptron (64 → 64 ReLU → 10 softmax, SGD with momentum, written in
numpy) learn scikit-learn's bundled digits data set (1,797 8×8 images of handwritten digits, 10 classes;
1,437 for training, 360 held out), logging ``train/loss``, ``train/accuracy``, ``train/lr`` and
``train/grad_norm`` every step and ``val/loss``, ``val/accuracy`` every ``steps // 40`` steps:

- ``baseline``: lr 0.05, halved when ``val/loss`` stops improving (ReduceLROnPlateau-style); each cut
  fires an INFO alert ``Plateau``.
- ``small-lr``: lr 0.01, learns more slowly (a run to compare against).
- ``lr-range-test``: the learning rate grows geometrically from 1e-3 to 1e5 over the run (Smith,
  "Cyclical Learning Rates for Training Neural Networks", 2017, §3.3). The loss falls, then diverges
  (WARN alert ``Loss diverging``); once lr × weight decay is large enough the weights grow without
  bound, overflow float32 and the loss becomes NaN (ERROR alert ``Loss is NaN``), which stops it.

The alerts come from :class:`Watchdog`, the kind of check a training script runs itself. With
``live=True`` the runs train in background processes, paced to be watched, while the terminal
dashboard (``trackio tui``) shows them. Needs numpy and scikit-learn (the ``demo`` extra).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time

DEFAULT_STEPS = 600
LIVE_PACE = 0.05  # seconds per step when the runs are watched live
EVALS_PER_RUN = 40
RUNS = {  # name → (initial lr, schedule)
    "baseline": (0.05, "plateau"),
    "small-lr": (0.01, "constant"),
    "lr-range-test": (1e-3, "range"),
}
RANGE_LR_MAX = 1e5


class DemoUnavailable(RuntimeError):
    """numpy or scikit-learn is missing; the message says how to install them."""


def _require_libs():
    try:
        import numpy as np
        from sklearn.datasets import load_digits
    except ImportError as e:
        missing = (e.name or "a module").split(".")[0]
        raise DemoUnavailable(f"trackio demo needs numpy and scikit-learn ({missing} is missing): "
                              "pip install 'trackio[demo]'") from None
    return np, load_digits


def load_data(seed: int = 0):
    """Digits scaled to [0, 1] (float32), shuffled with ``seed``: ``(x_train, y_train, x_val, y_val)``
    with 1,437 and 360 rows of 64 pixels."""
    np, load_digits = _require_libs()
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = (x[order] / 16.0).astype(np.float32), y[order]
    return x[:1437], y[:1437], x[1437:], y[1437:]


class MLP:
    """64 → ``hidden`` (ReLU) → 10 (softmax), He-initialised float32 weights (the precision real
    training uses, so a run that blows up overflows the way real ones do); plain numpy."""

    def __init__(self, hidden: int = 64, seed: int = 0):
        np, _ = _require_libs()
        self.np = np
        r = np.random.default_rng(seed)
        self.params = [a.astype(np.float32) for a in (
            r.normal(0.0, math.sqrt(2 / 64), (64, hidden)), np.zeros(hidden),
            r.normal(0.0, math.sqrt(1 / hidden), (hidden, 10)), np.zeros(10))]
        self.velocity = [np.zeros_like(p) for p in self.params]

    def loss(self, x, y, grads: bool = False):
        """Mean cross-entropy and accuracy on ``(x, y)``; with ``grads`` also the parameter gradients."""
        np = self.np
        w1, b1, w2, b2 = self.params
        with np.errstate(all="ignore"):
            h = np.maximum(x @ w1 + b1, 0.0)
            z = h @ w2 + b2
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # log-softmax, stable
            n = len(y)
            loss = float(-logp[np.arange(n), y].mean())
            acc = float((logp.argmax(axis=1) == y).mean())
            if not grads:
                return loss, acc
            d = np.exp(logp)
            d[np.arange(n), y] -= 1.0
            d /= n
            dh = d @ w2.T
            dh[h <= 0] = 0.0
            return loss, acc, [x.T @ dh, dh.sum(axis=0), h.T @ d, d.sum(axis=0)]

    def sgd_step(self, grads, lr: float, momentum: float = 0.9, weight_decay: float = 5e-4) -> float:
        """One SGD update with momentum and L2 weight decay added to the gradient (as
        ``torch.optim.SGD`` does); returns the loss gradient's global L2 norm."""
        np = self.np
        with np.errstate(all="ignore"):
            for i, g in enumerate(grads):
                self.velocity[i] = momentum * self.velocity[i] + g + weight_decay * self.params[i]
                self.params[i] = self.params[i] - lr * self.velocity[i]
            return float(math.sqrt(sum(float((g * g).sum()) for g in grads)))


class Watchdog:
    """Checks a training run can make for itself, each firing a ``trackio.alert``.

    - non-finite loss → ERROR ``Loss is NaN`` (or ``Infinity``); :meth:`on_step` returns False: stop.
    - divergence: the debiased EMA (α = 0.1) of the training loss above both ``factor`` × its best
      value and best + ``margin`` (nats; keeps batch noise near a loss of 0 quiet), after ``warmup``
      steps → WARN ``Loss diverging``; re-armed once it is back under 1.5 × best.
    - plateau (unless ``patience`` is None): ``val/loss`` not below ``(1 - 1e-3)`` × best for
      ``patience`` evaluations → INFO ``Plateau``; :meth:`on_eval` then returns True.
    """

    def __init__(self, run, factor: float = 2.0, margin: float = 0.25, warmup: int = 20,
                 patience: int | None = 5):
        self.run, self.factor, self.margin, self.warmup, self.patience = run, factor, margin, warmup, patience
        self.ema = self.ema_weight = 0.0
        self.best_ema, self.best_ema_step = math.inf, 0
        self.diverging = False
        self.best_val, self.best_val_step, self.stale = math.inf, 0, 0
        self.fired = 0  # alerts fired so far

    def _alert(self, title: str, text: str, level: str) -> None:
        self.fired += 1
        self.run.alert(title, text, level=level)

    def on_step(self, step: int, loss: float, lr: float) -> bool:
        if not math.isfinite(loss):
            label = "NaN" if loss != loss else "Infinity"
            self._alert(f"Loss is {label}", f"train/loss became {label} at step {step} (lr {lr:.3g}); "
                           "stopping the run", "error")
            return False
        self.ema = 0.9 * self.ema + 0.1 * loss
        self.ema_weight = 0.9 * self.ema_weight + 0.1
        smooth = self.ema / self.ema_weight
        if step >= self.warmup and smooth < self.best_ema:
            self.best_ema, self.best_ema_step = smooth, step
        if (not self.diverging and step >= self.warmup and smooth > self.factor * self.best_ema
                and smooth > self.best_ema + self.margin):
            self.diverging = True
            self._alert("Loss diverging", f"train/loss EMA {smooth:.3g} is {smooth / self.best_ema:.1f}× its "
                           f"best ({self.best_ema:.3g} at step {self.best_ema_step}); lr is {lr:.3g}",
                           "warn")
        elif self.diverging and smooth < 1.5 * self.best_ema:
            self.diverging = False
        return True

    def on_eval(self, step: int, val_loss: float, new_lr: float | None = None) -> bool:
        """Record one evaluation; True when a plateau was detected (the alert names ``new_lr``, the
        learning rate the caller will switch to, when given)."""
        if val_loss < (1 - 1e-3) * self.best_val:
            self.best_val, self.best_val_step, self.stale = val_loss, step, 0
            return False
        self.stale += 1
        if self.patience is None or self.stale < self.patience:
            return False
        self.stale = 0
        cut = "" if new_lr is None else f"; learning rate → {new_lr:.3g}"
        self._alert("Plateau", f"val/loss has not improved for {self.patience} evaluations (best "
                    f"{self.best_val:.4f} at step {self.best_val_step}){cut}", "info")
        return True


def train(project: str, name: str, kind: str, steps: int = DEFAULT_STEPS, pace: float = 0.0,
          data=None, batch_size: int = 32, seed: int = 0) -> dict:
    """Train one demo run (``kind`` is a key of :data:`RUNS`) logged as run ``name`` of ``project``.

    ``pace``: seconds to sleep after each step (0 for full speed). Returns a summary dict
    (``name``, ``steps`` done, last ``val_accuracy``, ``alerts`` fired).

    Raises:
        DemoUnavailable: numpy or scikit-learn is missing.
    """
    import trackio

    np, _ = _require_libs()
    x_tr, y_tr, x_va, y_va = data if data is not None else load_data()
    lr0, schedule = RUNS[kind]
    eval_every = max(1, steps // EVALS_PER_RUN)
    run = trackio.init(project=project, name=name, config={
        "model": "mlp-64-relu", "dataset": "sklearn digits (1797 8x8 images, 10 classes)",
        "train_size": len(y_tr), "val_size": len(y_va), "optimizer": "sgd", "momentum": 0.9,
        "weight_decay": 5e-4, "dtype": "float32",
        "batch_size": batch_size, "lr": lr0, "lr_schedule": schedule, "steps": steps, "seed": seed})
    dog = Watchdog(run, patience=None if schedule == "range" else 5)
    model, rng = MLP(seed=seed), np.random.default_rng(seed + 1)
    lr, val_acc, step = lr0, None, 0
    try:
        for step in range(steps):
            if schedule == "range":
                lr = lr0 * (RANGE_LR_MAX / lr0) ** (step / max(1, steps - 1))
            batch = rng.integers(0, len(y_tr), batch_size)
            loss, acc, grads = model.loss(x_tr[batch], y_tr[batch], grads=True)
            grad_norm = model.sgd_step(grads, lr)
            run.log({"train/loss": loss, "train/accuracy": acc, "train/lr": lr, "train/grad_norm": grad_norm})
            if not dog.on_step(step, loss, lr):
                break
            if step % eval_every == eval_every - 1 or step == steps - 1:
                val_loss, val_acc = model.loss(x_va, y_va)
                run.log({"val/loss": val_loss, "val/accuracy": val_acc}, step=step)
                cut = lr / 2 if schedule == "plateau" else None  # ReduceLROnPlateau, factor 0.5
                if dog.on_eval(step, val_loss, cut) and cut is not None:
                    lr = cut
            if pace:
                time.sleep(pace)
    finally:
        run.finish()
    return {"name": name, "steps": step + 1, "val_accuracy": val_acc, "alerts": dog.fired}


def _free_names(project: str) -> dict[str, str]:
    """Run names for this demo: ``baseline`` …, or ``baseline-2`` … when a previous demo used those."""
    from .api import Api

    try:
        taken = {r.name for r in Api().runs(project)}
    except Exception:  # no project yet (or unreadable: init will say so)
        taken = set()
    suffix, n = "", 1
    while any(f"{k}{suffix}" in taken for k in RUNS):
        n += 1
        suffix = f"-{n}"
    return {kind: f"{kind}{suffix}" for kind in RUNS}


def _check_steps(steps) -> int:
    if steps is None:
        return DEFAULT_STEPS
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    return steps


def run_demo(project: str = "demo", steps: int | None = None, live: bool = False) -> None:
    """Train the three demo runs into ``project`` (``steps`` per run, default 600).

    Without ``live`` the runs train one after the other in this process (about a second each) and a
    summary with the next commands to try is printed. With ``live`` they train in background processes,
    paced at 0.05 s per step, while the terminal dashboard shows them; quitting the dashboard stops any
    run still training (it is finished cleanly). When stdin/stdout are not a terminal, or the dashboard
    is not in this build, ``live`` falls back to training in the foreground (with a note).

    Raises:
        ValueError: ``steps`` is not a positive integer.
        DemoUnavailable: numpy or scikit-learn is missing (``pip install 'trackio[demo]'``).
    """
    steps = _check_steps(steps)
    data = load_data()  # fails early, with the install hint, when the libraries are missing
    names = _free_names(project)
    if live:
        run_tui = None
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            print("* The live dashboard needs a terminal; training in the foreground instead.", flush=True)
        else:
            try:
                from .tui import run_tui
            except ImportError:
                print("* The terminal dashboard is not available in this build; training in the foreground.",
                      flush=True)
        if run_tui is not None:
            _run_live(project, names, steps, run_tui)
            return
    summaries = [train(project, names[kind], kind, steps, data=data) for kind in RUNS]
    from .store.paths import data_dir

    print(f"\n* Demo finished: {len(summaries)} runs in project '{project}' ({data_dir()}):", flush=True)
    for s in summaries:
        acc = "n/a" if s["val_accuracy"] is None else f"{s['val_accuracy']:.3f}"
        print(f"    {s['name']:<16} {s['steps']:>6} steps   val/accuracy {acc}", flush=True)
    print(f'* Watch it:        trackio tui --project "{project}"\n'
          f'* Alerts as JSON:  trackio list alerts --project "{project}" --json', flush=True)


def _run_live(project: str, names: dict, steps: int, run_tui) -> None:
    import tempfile

    from .api import Api

    log = tempfile.NamedTemporaryFile(prefix=f"trackio-demo-{os.getpid()}-", suffix=".log", delete=False)
    procs = [subprocess.Popen([sys.executable, "-m", "trackio.demo", "--project", project, "--name", name,
                               "--kind", kind, "--steps", str(steps), "--pace", str(LIVE_PACE)],
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              start_new_session=True)  # Ctrl+C in the dashboard must not hit them
             for kind, name in names.items()]
    log.close()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and all(p.poll() is None for p in procs):
            try:
                if set(names.values()) <= {r.name for r in Api().runs(project)}:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        run_tui(project=project)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        print(f"* Demo stopped. Training output: {log.name}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the background training processes (``python -m trackio.demo``)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m trackio.demo", description="Train one trackio demo run.")
    parser.add_argument("--project", default="demo")
    parser.add_argument("--kind", choices=sorted(RUNS), default="baseline")
    parser.add_argument("--name")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--pace", type=float, default=0.0)
    args = parser.parse_args(argv)

    def stop(signum, frame):  # the dashboard was closed: end the run cleanly
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        train(args.project, args.name or args.kind, args.kind, _check_steps(args.steps), args.pace)
    except KeyboardInterrupt:
        return 130
    except (DemoUnavailable, ValueError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
