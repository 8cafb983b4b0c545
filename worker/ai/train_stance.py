"""Train the stance head on pairs generated from the knowledge base (CPU, minutes).

    .venv/bin/python -m worker.ai.train_stance                 # bundled base → stance_head.pt
    .venv/bin/python -m worker.ai.train_stance --kb DIR --out FILE --epochs 40

The recipe (``worker.ai.pairs``) and this script are the head's whole provenance: the
same knowledge base and seed give the same pairs. A fifth of the known claims are held
back (with every pair built on them) to report accuracy per recipe on claims the head
never saw; the figures are printed and stored in the file beside the weights.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch import nn

from shared.knowledge import KB_PATH

from .encoder import SentenceEncoder, pick_device
from .learned_stance import SHIPPED_HEAD, StanceHead, pair_features, save_head, word_features
from .pairs import LABELS, Pair, generate_pairs
from .stance import LexicalStance
from .sync import claims_from_files


def featurise(encoder: SentenceEncoder, pairs: list[Pair]) -> torch.Tensor:
    lexical = LexicalStance()
    vectors = encoder.encode([p.premise for p in pairs] + [p.hypothesis for p in pairs])
    rows = [word_features(p.premise, p.hypothesis, lexical) for p in pairs]
    return pair_features(vectors[: len(pairs)], vectors[len(pairs) :], rows)


def train(
    features: torch.Tensor, labels: torch.Tensor, dim: int, *, epochs: int, seed: int
) -> StanceHead:
    torch.manual_seed(seed)
    head = StanceHead(dim)
    optimiser = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        head.train()
        order = torch.randperm(len(labels))
        for start in range(0, len(order), 256):
            batch = order[start : start + 256]
            optimiser.zero_grad()
            loss = loss_fn(head(features[batch]), labels[batch])
            loss.backward()
            optimiser.step()
    return head.eval()


def per_recipe_accuracy(
    head: StanceHead, features: torch.Tensor, pairs: list[Pair]
) -> dict[str, float]:
    with torch.inference_mode():
        predicted = head(features).argmax(dim=1).tolist()
    hits: dict[str, list[bool]] = defaultdict(list)
    for pair, index in zip(pairs, predicted, strict=True):
        hits[pair.recipe].append(LABELS[index] == pair.label)
        hits["all"].append(LABELS[index] == pair.label)
    return {recipe: sum(h) / len(h) for recipe, h in sorted(hits.items())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=KB_PATH)
    parser.add_argument("--out", type=Path, default=SHIPPED_HEAD)
    parser.add_argument("--model", default="", help="sentence encoder (default: MiniLM)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from worker.model import default_model_ref

    ref, name = (args.model, args.model) if args.model else default_model_ref()
    encoder = SentenceEncoder(ref, device=pick_device("auto"), name=name)
    started = time.monotonic()
    claims = claims_from_files(args.kb)
    rng = random.Random(args.seed)
    held_back = {c.claim for c in rng.sample(claims, len(claims) // 5)}
    vectors = encoder.encode([c.claim for c in claims])
    pairs = generate_pairs(
        [c.claim for c in claims], [c.verdict for c in claims], vectors, seed=args.seed
    )
    train_pairs = [p for p in pairs if p.premise not in held_back and p.hypothesis not in held_back]
    test_pairs = [p for p in pairs if p.premise in held_back]
    print(f"{len(claims)} claims → {len(train_pairs)} training and {len(test_pairs)} test pairs")
    x_train, x_test = featurise(encoder, train_pairs), featurise(encoder, test_pairs)
    y_train = torch.tensor([LABELS.index(p.label) for p in train_pairs])
    head = train(x_train, y_train, encoder.dim, epochs=args.epochs, seed=args.seed)
    report = per_recipe_accuracy(head, x_test, test_pairs)
    for recipe, accuracy in report.items():
        print(f"  {recipe:<16} {100 * accuracy:5.1f}%  (held-back claims)")
    # The shipped head learns from every claim; the figures above are from the split.
    x_all = torch.cat([x_train, x_test])
    y_all = torch.cat([y_train, torch.tensor([LABELS.index(p.label) for p in test_pairs])])
    head = train(x_all, y_all, encoder.dim, epochs=args.epochs, seed=args.seed)
    save_head(head, args.out, encoder=encoder.name, report=report)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB) in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
