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
from transformers import (  # type: ignore[attr-defined]
    BertConfig,
    BertForSequenceClassification,
    BertModel,
    BertTokenizerFast,
)

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


NLI_LABELS = {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}


def build_tiny_nli(
    path: Path | str, *, always: str | None = None, seed: int = 1234, hidden: int = 32
) -> Path:
    """A tiny BERT sequence classifier with MNLI labels, saved like a hub NLI model.

    ``always`` ("ENTAILMENT", "NEUTRAL" or "CONTRADICTION") pins its answer: the
    classifier's weights are zeroed and its bias set, so verdict logic can be tested
    through the real loading and inference code with a known stance. Columns are in
    roberta-large-mnli's order, not the alphabetical one, so a test shows the label
    mapping is read from the config.
    """
    out = Path(path)
    build_tiny_encoder(out, seed=seed)  # the same tokenizer (and a base to overwrite)
    config: BertConfig = BertConfig.from_pretrained(out)
    config.hidden_size = hidden
    config.id2label = dict(NLI_LABELS)  # also sets num_labels
    config.label2id = {v: k for k, v in NLI_LABELS.items()}
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    if always is not None:
        with torch.no_grad():
            model.classifier.weight.zero_()
            model.classifier.bias.copy_(
                torch.tensor([8.0 if NLI_LABELS[i] == always else 0.0 for i in range(3)])
            )
    model.save_pretrained(out)
    return out


def build_random_nli(
    path: Path | str,
    *,
    tokenizer: Path | str,
    hidden: int = 768,
    layers: int = 12,
    heads: int = 12,
    intermediate: int = 3072,
    seed: int = 1234,
) -> Path:
    """A randomly initialised BERT NLI classifier of a real size (bert-base by default),
    with MNLI labels and the vocabulary of the tokenizer saved at ``tokenizer``.

    For speed benchmarks, where the architecture matters and the answers do not: its
    stances are noise. Built in a few seconds, no download.
    """
    from transformers import AutoTokenizer

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(tokenizer, local_files_only=True)
    tok.save_pretrained(out)
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate,
        max_position_embeddings=512,
    )
    config.num_labels = len(NLI_LABELS)
    config.id2label = dict(NLI_LABELS)
    config.label2id = {v: k for k, v in NLI_LABELS.items()}
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(out)
    return out
