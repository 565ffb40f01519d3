"""A/B on a convolutional network: a LeNet-style CNN (two convolution + max-pooling stages, then
dense layers) on Fashion-MNIST, trained side by side from one initialisation on the same
batches, once by the rule (eiprop.convert of the Sequential: an eiprop.nn.SequentialCircuit whose
backward is credit relaxation through the convolutions, the winner-take-all pooling populations
and the dense layers) and once by PyTorch autograd through the same layers, each with its own
SGD-with-momentum optimizer. The machinery (per-epoch table, gradient agreement, epochs.csv,
agreement.csv, summary.json, curves.png, the 0.1-point gap check) is ab_autograd.py's.
"""
import argparse
import sys

import torch

import eiprop
from ab_autograd import common_arguments, dtype_of, run


def parse_args():
    p = argparse.ArgumentParser(description="A/B test of the eiprop rule against PyTorch "
                                "autograd on a CNN, Fashion-MNIST")
    common_arguments(p, epochs=8, lr=0.05, out="out/cnn_ab", schedule="cosine",
                     agreement_every=10)
    p.add_argument("--channels", default="8,16", help="channels of the two convolutions")
    p.add_argument("--hidden", type=int, default=64, help="width of the dense hidden layer")
    return p.parse_args()


def lenet(channels, hidden):
    """28x28 -> conv 5x5 (padding 2) -> ReLU -> max-pool 2 -> conv 5x5 -> ReLU -> max-pool 2 ->
    flatten -> Linear -> ReLU -> Linear(10)."""
    c1, c2 = channels
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(c2 * 5 * 5, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, 10))


def main():
    args = parse_args()
    channels = [int(c) for c in args.channels.split(",")]
    torch.manual_seed(args.seed)
    model = eiprop.convert(lenet(channels, args.hidden).to(dtype_of(args)), method=args.method)
    description = f"CNN conv{channels[0]}-pool-conv{channels[1]}-pool-{args.hidden}-10"
    return run(args, "cnn_ab", model, description, (1, 28, 28))


if __name__ == "__main__":
    sys.exit(main())
