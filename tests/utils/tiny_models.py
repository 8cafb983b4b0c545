"""A tiny, randomly initialised BERT encoder built on the spot: no download, < 1 s.

Used wherever a test or a benchmark needs a real transformers model loaded through the
production code path but not a meaningful one (the "fast model").
"""

from __future__ import annotations

import string
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

# transformers 5 folds BertTokenizerFast into BertTokenizer (kept as an alias); the
# alias also exists in 4.x, where BertTokenizer is the slow one.
from transformers import BertConfig, BertModel, BertTokenizerFast  # type: ignore[attr-defined]

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

_CORPUS = [
    "Water boils at 100 degrees Celsius at sea level.",
    "The Earth orbits the Sun once a year.",
    "Paris is the capital of France.",
    "The moon landing was faked in a studio.",
    "Vaccines cause autism is a debunked claim.",
    "I think pineapple pizza is the best food.",
    "In my opinion summer is the most beautiful season.",
    "Bitcoin will be worth a million dollars next year.",
    "Someone said something happened yesterday.",
    "A personal opinion, a prediction, a value judgement, a preference.",
    "Misinformation, a conspiracy theory, a hoax, a myth.",
    "A well-established scientific fact, common knowledge, history, geography.",
    "Ambiguous, vague, meaningless, too little information to verify.",
    "The quick brown fox jumps over the lazy dog 0 1 2 3 4 5 6 7 8 9.",
]


def _build_tokenizer() -> Tokenizer:
    """A WordPiece tokenizer over the corpus words plus every character.

    Built rather than trained: the WordPiece trainer breaks ties between equally frequent
    merges in hash order, so its vocabulary changes from run to run.
    """
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    words = {
        word for line in _CORPUS for word, _ in pre.pre_tokenize_str(normalizer.normalize_str(line))
    }
    chars = set(string.ascii_lowercase + string.digits + string.punctuation)
    chars |= {c for w in words for c in w}
    pieces = sorted(words | chars | {f"##{c}" for c in chars})
    vocab = {t: i for i, t in enumerate([*SPECIAL_TOKENS, *pieces])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece()
    return tok


def build_tiny_encoder(path: Path | str, *, seed: int = 1234) -> Path:
    """Write a tokenizer and a 2-layer BERT (hidden 32) to ``path``; returns ``path``.

    Deterministic: same seed, same weights and vocabulary.
    """
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizerFast(
        tokenizer_object=_build_tokenizer(),
        model_max_length=128,
        **dict(
            zip(
                ["pad_token", "unk_token", "cls_token", "sep_token", "mask_token"],
                SPECIAL_TOKENS,
                strict=True,
            )
        ),
    )
    tokenizer.save_pretrained(out)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(out)
    return out
