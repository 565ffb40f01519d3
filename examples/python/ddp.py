"""Data-parallel training of an eiprop.nn.BalancedMLP with torch DistributedDataParallel (Gloo).

The circuit is an ordinary torch.nn.Module whose backward is credit relaxation, so DDP wraps it
as it wraps any model: each rank computes the rule's gradients on its slice of the global batch
and DDP averages them across ranks before the optimiser step.

    torchrun --nproc-per-node 2 examples/python/ddp.py --steps 100 --out circuit.pt
    python examples/python/ddp.py --steps 100 --out circuit.pt     # one process, no DDP

The problem is synthetic and deterministic (a fixed random teacher circuit labels inputs drawn
from a generator seeded by --seed, the same on every rank), so no dataset is needed. Every step,
rank r of W takes the r-th contiguous slice of the --batch samples and the loss is the mean
cross-entropy over that slice: DDP's average of the W slice gradients is then the full-batch
gradient, and W ranks train the same parameters as one process (up to rounding).

Users who outgrow one machine run the same script as they run any DDP program, with torchrun
on every node, e.g.

    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d \\
             --rdzv-endpoint HOST:29500 --rdzv-id job1 examples/python/ddp.py ...
"""
import argparse
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

import eiprop


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64, help="global batch (all ranks)")
    parser.add_argument("--widths", default="16,32,4", help="input,hidden...,classes")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="rank 0 saves the final state_dict here")
    return parser.parse_args()


def main():
    args = parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    dtype = getattr(torch, args.dtype)

    distributed = "RANK" in os.environ  # set by torchrun
    if distributed:
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    if args.batch % world:
        raise SystemExit(f"--batch {args.batch} is not divisible by the world size {world}")
    local = args.batch // world

    # The same teacher, data stream and initial parameters on every rank.
    generator = torch.Generator().manual_seed(args.seed)
    teacher = torch.randn(widths[0], widths[-1], generator=generator, dtype=dtype)
    torch.manual_seed(args.seed)
    model = eiprop.nn.BalancedMLP(widths, activation="tanh", dtype=dtype)
    trained = DistributedDataParallel(model) if distributed else model
    optimizer = torch.optim.SGD(trained.parameters(), lr=args.lr)

    for _ in range(args.steps):
        x = torch.randn(args.batch, widths[0], generator=generator, dtype=dtype)
        y = (x @ teacher).argmax(dim=1)
        x, y = x[rank * local:(rank + 1) * local], y[rank * local:(rank + 1) * local]
        loss = F.cross_entropy(trained(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    if distributed:  # the mean of the ranks' final losses: the full-batch loss
        loss = loss.detach().clone()
        dist.all_reduce(loss)
        loss /= world
    if rank == 0:
        print(f"world size {world}: final loss {loss.item():.6f} after {args.steps} steps")
        if args.out:
            torch.save(model.state_dict(), args.out)
    if distributed:
        # Every rank done (rank 0 has saved) and DDP's reducer gone before the group is: a rank
        # that tore the group down under a live reducer could abort at exit.
        dist.barrier()
        del trained
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
