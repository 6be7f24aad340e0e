"""Tiny models for the speculative decoding tests: a target and drafts that share its tokens."""

from __future__ import annotations

from playground.core.models.loading import LoadedModel, describe_model
from playground.core.models.sources import ModelSource


def tiny_causal(vocab: int, layers: int, seed: int, hidden: int = 16, init: float = 0.02, tokenizer=None):
    """A random Llama (LoadedModel, CPU, eval) with ``vocab`` tokens; ``init`` scales its weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      initializer_range=init, tie_word_embeddings=False, bos_token_id=0, eos_token_id=None,
                      pad_token_id=None)
    model = LlamaForCausalLM(cfg).eval()
    return LoadedModel(model=model, tokenizer=tokenizer, info=describe_model(model, tokenizer, f"tiny-{vocab}-{seed}"),
                       source=ModelSource("local", ""))


def save_causal(folder, vocab: int, layers: int, seed: int, tokenizer, hidden: int = 32):
    """A random Llama with ``tokenizer`` saved as a model folder (a draft a person could name)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                      pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    folder.mkdir(parents=True, exist_ok=True)
    LlamaForCausalLM(cfg).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


class _TokenCache:
    """A stand-in KV cache: the tokens a MarkovLM has read (cropped as transformers' caches are)."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def get_seq_length(self) -> int:
        return len(self.ids)

    def crop(self, n: int) -> None:
        del self.ids[n if n < 0 else n:]


def markov_lm(vocab: int, seed: int, sharp: float = 2.0):
    """A trigram language model behind the model interface the decode step uses (LoadedModel).

    Its next-token scores depend on the last two tokens *in its cache*, so a cache cropped wrongly
    gives wrong distributions; a forward pass costs microseconds, so thousands of seeded runs fit in
    a test.
    """
    from types import SimpleNamespace

    import torch

    from playground.core.models.loading import ModelInfo

    class MarkovLM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            gen = torch.Generator().manual_seed(seed)
            self.table = torch.nn.Parameter(torch.randn(vocab, vocab, vocab, generator=gen) * sharp,
                                            requires_grad=False)
            self.config = SimpleNamespace(vocab_size=vocab)

        def forward(self, input_ids, cache=None, use_cache=True):
            cache = cache if cache is not None else _TokenCache()
            rows = []
            for t in input_ids[0].tolist():
                cache.ids.append(int(t))
                before = cache.ids[-2] if len(cache.ids) >= 2 else 0
                rows.append(self.table[before, int(t)])
            return SimpleNamespace(logits=torch.stack(rows)[None], cache=cache)

    model = MarkovLM()
    info = ModelInfo(name=f"markov-{vocab}-{seed}", kind="decoder-only", architecture="MarkovLM",
                     parameters=vocab ** 3, memory_bytes=4 * vocab ** 3, context_window=64, vocab_size=vocab,
                     has_chat_template=False, device="cpu", dtype="float32", num_layers=1, num_heads=0)
    return LoadedModel(model=model, tokenizer=None, info=info, source=ModelSource("local", ""))
