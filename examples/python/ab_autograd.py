"""A/B: the same initialisation trained side by side on the same Fashion-MNIST batches, once by
the rule (eiprop.nn.BalancedMLP, learning="credit": E-I equilibrium forward, credit relaxation
backward) and once by PyTorch autograd (a copy with learning="autograd"), each with its own
SGD-with-momentum optimizer. The Python version of examples/ab_autograd.cpp.

Every --agreement-every steps it compares, per layer, the rule's weight gradient with autograd's
on the rule model's own weights and the same batch; per epoch it records loss, train/test
accuracy and step time of both. Writes epochs.csv, agreement.csv, summary.json and curves.png
(with gnuplot) to --out, and exits 1 when a per-epoch test-accuracy gap exceeds 0.1 percentage
points (77: no dataset). cnn_ab.py runs the same A/B on a convolutional network.
"""
import argparse
import copy
import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

import eiprop

MAX_GAP_PP = 0.1  # percentage points of test accuracy, per epoch
MISSING_DATA = 77  # the test harness's "skipped"


def common_arguments(p, epochs, lr, out, schedule="constant", agreement_every=1):
    """The flags both A/B examples take (this one and cnn_ab.py)."""
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--method", default="sweep", help="relaxation method: sweep, jacobi, euler")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=lr, help="SGD learning rate")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    p.add_argument("--schedule", default=schedule, choices=["constant", "cosine"],
                   help="learning rate over the epochs: constant, or cosine annealing to 0 "
                        "(the same schedule on both sides)")
    p.add_argument("--train-limit", type=int, default=0,
                   help="use only the first N training images (0: all)")
    p.add_argument("--agreement-every", type=int, default=agreement_every,
                   help="compare the rule's gradient with autograd's every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's choice)")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist",
                   help="directory of the Fashion-MNIST .gz files")
    p.add_argument("--compile", action="store_true",
                   help="train through torch.compile(model) (default backend, inductor on CPU); "
                        "the first step of each side includes the compilation")
    p.add_argument("--out", default=out, help="output directory")


def parse_args():
    p = argparse.ArgumentParser(description="A/B test of the eiprop rule against PyTorch "
                                "autograd on Fashion-MNIST")
    common_arguments(p, epochs=8, lr=0.05, out="out/ab_autograd_python")
    p.add_argument("--hidden", default="256,128", help="hidden widths, comma-separated")
    p.add_argument("--activation", default="tanh", help="hidden activation")
    return p.parse_args()


def read_idx(path):
    """An IDX file (gzip): big-endian dimensions after the magic number, then unsigned bytes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(shape)


def load_split(data_dir, prefix):
    """Images flattened to 784 and scaled to [0, 1] (as torch's MNIST dataset does), labels."""
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    return images.reshape(images.shape[0], -1).float().div(255), labels.long()


def accuracy(model, images, labels, dtype):
    with torch.no_grad():
        correct = sum(model(x.to(dtype)).argmax(1).eq(y).sum().item()
                      for x, y in zip(images.split(1000), labels.split(1000)))
    return 100.0 * correct / images.shape[0]


def relative_error(actual, expected):
    """max |actual - expected| / max |expected| (0 when equal), as eiprop::relative_error."""
    gap = (actual - expected).abs().max().item()
    return 0.0 if gap == 0 else gap / expected.abs().max().item()


class Side:
    """One model with its optimizer and the running statistics of the epoch."""

    def __init__(self, name, model, args):
        self.name, self.model = name, model
        self.forward = torch.compile(model) if args.compile else model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
        self.schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(self.optimizer, args.epochs)
                         if args.schedule == "cosine" else None)
        self.loss_sum, self.correct, self.step_seconds = 0.0, 0, 0.0

    def step(self, x, y):
        start = time.perf_counter()
        self.optimizer.zero_grad()
        logits = self.forward(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        self.optimizer.step()
        self.step_seconds += time.perf_counter() - start
        self.loss_sum += loss.item() * x.shape[0]
        self.correct += logits.argmax(1).eq(y).sum().item()


def gradient_agreement(model, x, y):
    """Both weight gradients on the rule model's current weights and this batch, per layer."""
    weights = [p for p in model.parameters() if p.dim() > 1]
    credit = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    model.set_learning("autograd")
    reference = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    model.set_learning("credit")
    return [relative_error(c, r) for c, r in zip(credit, reference)]


def plot_curves(out, description, max_gap):
    """curves.png from epochs.csv with gnuplot (Debian's gnuplot); False when it is missing."""
    span = max(0.1, 1.5 * max_gap)  # the gap panel's range (gnuplot refuses an empty one)
    if shutil.which("gnuplot") is None:
        print("gnuplot not found: curves.png not drawn", file=sys.stderr)
        return False
    script = f"""set terminal pngcairo size 1200,420 noenhanced
set output '{out}/curves.png'
set datafile separator ','
set key autotitle columnhead bottom right
set grid
set multiplot layout 1,3 title 'Fashion-MNIST, {description}: the rule and autograd'
set xlabel 'epoch'
set ylabel 'test accuracy (%)'
plot '{out}/epochs.csv' using 1:6 with linespoints title 'rule', '' using 1:7 with lines dt 2 lw 2 title 'autograd'
set ylabel 'training loss'
set key top right
plot '{out}/epochs.csv' using 1:2 with linespoints title 'rule', '' using 1:3 with lines dt 2 lw 2 title 'autograd'
set ylabel 'rule - autograd test accuracy (points)'
set yrange [-{span}:{span}]
unset key
plot '{out}/epochs.csv' using 1:($6-$7) with linespoints
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return True


def main():
    args = parse_args()
    widths = [784] + [int(w) for w in args.hidden.split(",")] + [10]
    torch.manual_seed(args.seed)
    model = eiprop.nn.BalancedMLP(widths, activation=args.activation, method=args.method,
                                  dtype=dtype_of(args))
    return run(args, "ab_autograd", model, f"model {widths} {args.activation}", (784,))


def dtype_of(args):
    return torch.float64 if args.dtype == "float64" else torch.float32


def run(args, program, rule_model, description, input_shape):
    """Trains rule_model (learning="credit") and an autograd copy of it side by side, reports,
    writes the files, and returns the exit code. Images are [N, *input_shape]."""
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        path = os.path.join(args.data_dir, name + ".gz")
        if not os.path.isfile(path):
            print(f"{program}: {path} not found: install Debian's dataset-fashion-mnist "
                  f"package", file=sys.stderr)
            return MISSING_DATA
    dtype = dtype_of(args)
    train_x, train_y = load_split(args.data_dir, "train")
    test_x, test_y = load_split(args.data_dir, "t10k")
    train_x, test_x = train_x.view(-1, *input_shape), test_x.view(-1, *input_shape)
    if 0 < args.train_limit < train_x.shape[0]:
        train_x, train_y = train_x[:args.train_limit], train_y[:args.train_limit]
    train_x = train_x.to(dtype)
    n, batch = train_x.shape[0], args.batch
    steps = (n + batch - 1) // batch

    # Both sides from one initialisation, each with its own optimizer.
    reference_model = copy.deepcopy(rule_model).set_learning("autograd")
    rule, reference = Side("rule", rule_model, args), Side("autograd", reference_model, args)
    generator = torch.Generator().manual_seed(args.seed + 1)
    print(f"A/B on Fashion-MNIST: {n} train / {test_x.shape[0]} test images, {description} "
          f"({args.dtype}, {args.method}), {args.epochs} epochs, batch {batch}, "
          f"SGD lr {args.lr} momentum {args.momentum}"
          f"{' (cosine schedule)' if args.schedule == 'cosine' else ''}; "
          f"{torch.get_num_threads()} thread(s)"
          f"{', torch.compile' if args.compile else ''}")

    os.makedirs(args.out, exist_ok=True)
    agreement_file = open(os.path.join(args.out, "agreement.csv"), "w", newline="")
    epochs_file = open(os.path.join(args.out, "epochs.csv"), "w", newline="")
    agreement_csv, epochs_csv = csv.writer(agreement_file), csv.writer(epochs_file)
    agreement_csv.writerow(["step", "layer", "relative_error"])
    epochs_csv.writerow(["epoch", "rule_loss", "autograd_loss", "rule_train_acc",
                         "autograd_train_acc", "rule_test_acc", "autograd_test_acc",
                         "rule_ms_per_step", "autograd_ms_per_step"])
    worst_error, max_gap, rows, step = 0.0, 0.0, [], 0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for side in (rule, reference):
            side.loss_sum, side.correct, side.step_seconds = 0.0, 0, 0.0
        order = torch.randperm(n, generator=generator)
        for s in range(steps):
            index = order[s * batch:(s + 1) * batch]
            x, y = train_x[index], train_y[index]
            if step % args.agreement_every == 0:
                for layer, error in enumerate(gradient_agreement(rule.model, x, y)):
                    worst_error = max(worst_error, error)
                    agreement_csv.writerow([step, layer, f"{error:.6e}"])
            rule.step(x, y)
            reference.step(x, y)
            step += 1
            if s % 50 == 0 or s + 1 == steps:
                seen = min(n, (s + 1) * batch)
                print(f"\repoch {epoch}/{args.epochs}  step {s + 1:>5}/{steps}  rule loss "
                      f"{rule.loss_sum / seen:.4f}  autograd loss {reference.loss_sum / seen:.4f}",
                      end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        for side in (rule, reference):
            if side.schedule is not None:
                side.schedule.step()
        row = [epoch, rule.loss_sum / n, reference.loss_sum / n, 100.0 * rule.correct / n,
               100.0 * reference.correct / n, accuracy(rule.model, test_x, test_y, dtype),
               accuracy(reference.model, test_x, test_y, dtype),
               1e3 * rule.step_seconds / steps, 1e3 * reference.step_seconds / steps]
        rows.append(row)
        max_gap = max(max_gap, abs(row[5] - row[6]))
        epochs_csv.writerow([epoch] + [f"{v:.6f}" for v in row[1:3]] +
                            [f"{v:.3f}" for v in row[3:7]] + [f"{v:.4f}" for v in row[7:]])
        epochs_file.flush()
    seconds = time.perf_counter() - start
    agreement_file.close()
    epochs_file.close()

    print(f"\n{'epoch':>5}  {'rule test%':>10}  {'autograd %':>10}  {'rule train%':>12}  "
          f"{'autograd tr%':>12}  {'gap pp':>6}  {'rule ms':>9}  {'autog ms':>9}")
    for r in rows:
        print(f"{r[0]:>5}  {r[5]:>10.2f}  {r[6]:>10.2f}  {r[3]:>12.2f}  {r[4]:>12.2f}  "
              f"{r[5] - r[6]:>6.2f}  {r[7]:>9.3f}  {r[8]:>9.3f}")
    rule_ms = sum(r[7] for r in rows) / len(rows)
    autograd_ms = sum(r[8] for r in rows) / len(rows)
    last = rows[-1]
    print(f"final test accuracy: rule {last[5]:.2f}%, autograd {last[6]:.2f}%; largest "
          f"per-epoch gap {max_gap:.2f} percentage points")
    print(f"gradient agreement (every {args.agreement_every} steps, all layers): worst relative "
          f"error {worst_error:.3e}")
    print(f"step time: rule {rule_ms:.3f} ms, autograd {autograd_ms:.3f} ms (ratio "
          f"{rule_ms / autograd_ms:.2f}); total {seconds:.1f} s")
    summary = {"epochs": args.epochs, "model": description, "schedule": args.schedule, "train_images": n, "rule_test_accuracy": last[5],
               "autograd_test_accuracy": last[6], "max_test_accuracy_gap_pp": max_gap,
               "worst_gradient_relative_error": worst_error, "rule_ms_per_step": rule_ms,
               "autograd_ms_per_step": autograd_ms, "seconds": seconds}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}/epochs.csv, agreement.csv, summary.json"
          f"{', curves.png' if plot_curves(args.out, description, max_gap) else ''}")
    if max_gap > MAX_GAP_PP:
        print(f"{program}: a per-epoch test-accuracy gap of {max_gap:.3f} percentage points "
              f"exceeds {MAX_GAP_PP}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
