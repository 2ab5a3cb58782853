"""Train a small PyTorch MLP on scikit-learn's bundled digits data set and track it with trackio.

    pip install -e ".[dev,clients]"        # trackio, numpy, scikit-learn, torch (CPU)
    python examples/train_digits.py                                  # a healthy run
    python examples/train_digits.py --schedule range --name lr-finder # diverges, then the loss overflows
    trackio tui --project digits        # watch them (or: trackio list alerts --project digits --json)

What is tracked: the config (every command-line flag), per step ``train/loss``, ``train/accuracy``,
``train/lr`` and ``train/grad_norm``, and every ``--eval-every`` steps ``val/loss`` and
``val/accuracy``. The script watches its own training the way a careful one does and raises trackio
alerts that a person (``trackio tui``) or an agent (``trackio list alerts --json``) picks up:

- ERROR ``Loss is NaN`` (or ``Loss is Infinity``) when the training loss is not finite; the run stops.
- WARN ``Loss diverging`` when the loss EMA climbs above twice its best value (and 0.25 nats over it).
- INFO ``Plateau`` when ``ReduceLROnPlateau`` cuts the learning rate because ``val/loss`` stalled.

Schedules: ``plateau`` (default) warms up linearly to ``--lr`` and halves it on plateaus; ``range`` is
an LR range test (Smith, "Cyclical Learning Rates for Training Neural Networks", 2017, §3.3): the
learning rate grows geometrically from 1e-3 to ``--lr-max``, so the loss first falls, then diverges and
finally overflows float32, which is exactly what the alerts are for.

Data: 1,797 8×8 images of handwritten digits shipped inside scikit-learn (no download); 1,437 train,
360 held out.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from sklearn.datasets import load_digits

import trackio


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--project", default="digits")
    p.add_argument("--name", default=None, help="run name (default: generated)")
    p.add_argument("--schedule", choices=["plateau", "range"], default="plateau")
    p.add_argument("--lr", type=float, default=0.05, help="peak learning rate, reached after warm-up")
    p.add_argument("--lr-max", type=float, default=1e3, help="final learning rate of the range test")
    p.add_argument("--warmup", type=int, default=50, help="linear warm-up steps")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--eval-every", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pace", type=float, default=0.0, help="seconds to sleep per step (to watch it live)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    x, y = load_digits(return_X_y=True)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(args.seed))
    x = torch.tensor(x / 16.0, dtype=torch.float32)[order]
    y = torch.tensor(y)[order]
    x_train, y_train, x_val, y_val = x[:1437], y[:1437], x[1437:], y[1437:]

    model = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    warmup = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, args.warmup)))
    if args.schedule == "range":
        args.warmup = 0
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=4)

    run = trackio.init(project=args.project, name=args.name, config=vars(args))
    ema, ema_weight, best, best_step, diverging = 0.0, 0.0, math.inf, 0, False
    try:
        for step in range(args.steps):
            batch = torch.randint(0, len(y_train), (args.batch_size,))
            logits = model(x_train[batch])
            loss = torch.nn.functional.cross_entropy(logits, y_train[batch])
            opt.zero_grad()
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=math.inf)
            if args.schedule == "range":
                for group in opt.param_groups:
                    group["lr"] = 1e-3 * (args.lr_max / 1e-3) ** (step / max(1, args.steps - 1))
            lr = opt.param_groups[0]["lr"]
            opt.step()
            if args.schedule == "plateau" and step < args.warmup:
                warmup.step()
            trackio.log({"train/loss": loss.item(), "train/lr": lr, "train/grad_norm": grad_norm,
                         "train/accuracy": (logits.argmax(1) == y_train[batch]).float().mean()})

            if not torch.isfinite(loss):
                label = "NaN" if torch.isnan(loss) else "Infinity"
                trackio.alert(f"Loss is {label}", f"train/loss became {label} at step {step} (lr {lr:.3g}); "
                              "stopping the run", level=trackio.AlertLevel.ERROR)
                break
            ema, ema_weight = 0.9 * ema + 0.1 * loss.item(), 0.9 * ema_weight + 0.1
            smooth = ema / ema_weight  # debiased exponential moving average
            if step >= args.warmup // 2 and smooth < best:
                best, best_step = smooth, step
            if not diverging and step >= args.warmup // 2 and smooth > max(2 * best, best + 0.25):
                diverging = True
                trackio.alert("Loss diverging", f"train/loss EMA {smooth:.3g} is {smooth / best:.1f}x its best "
                              f"({best:.3g} at step {best_step}); lr {lr:.3g}", level=trackio.AlertLevel.WARN)
            elif diverging and smooth < 1.5 * best:
                diverging = False

            if step % args.eval_every == args.eval_every - 1 or step == args.steps - 1:
                with torch.no_grad():
                    val_logits = model(x_val)
                    val_loss = torch.nn.functional.cross_entropy(val_logits, y_val).item()
                    val_acc = (val_logits.argmax(1) == y_val).float().mean().item()
                trackio.log({"val/loss": val_loss, "val/accuracy": val_acc}, step=step)
                if args.schedule == "plateau" and step >= args.warmup:
                    plateau.step(val_loss)
                    new_lr = opt.param_groups[0]["lr"]
                    if new_lr < lr:
                        trackio.alert("Plateau", f"val/loss stalled at {plateau.best:.4f}; learning rate "
                                      f"{lr:.3g} -> {new_lr:.3g}", level=trackio.AlertLevel.INFO)
            if args.pace:
                time.sleep(args.pace)
    finally:
        run.finish()


if __name__ == "__main__":
    main()
