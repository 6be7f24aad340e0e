"""One KV-cached decode step, shared by streaming generation and the token stepper.

The prompt runs once (the encoder once, for encoder-decoder models); each later step feeds only
the new token(s) and reuses the key/value cache. The cache goes to the model as transformers 5's
``cache=`` argument and comes back as ``output.cache`` (``past_key_values`` is deprecated and is
removed in transformers 5.40).

Speed (issue 35; ``decode_speed``): each decoder picks its intra-op thread count once (the idle
cores) and runs its passes with it; the output layer runs on the last position only
(``logits_to_keep=1``, as ``model.generate`` does) unless every position's scores are asked for.
"""

from __future__ import annotations

import inspect

import torch

from playground.core.decoding.decode_speed import decode_threads, intra_op_threads
from playground.core.decoding.sampling import check_logits
from playground.core.models.loading import LoadedModel


_LAST_ONLY: dict[type, bool] = {}


def takes_logits_to_keep(model) -> bool:
    """Whether the model's forward can compute the output layer on the last positions only."""
    cls = type(model)
    if cls not in _LAST_ONLY:
        try:
            _LAST_ONLY[cls] = "logits_to_keep" in inspect.signature(cls.forward).parameters
        except (TypeError, ValueError):
            _LAST_ONLY[cls] = False
    return _LAST_ONLY[cls]


class CachedDecoder:
    """The model's next-token scores for a prompt and the tokens fed after it.

    ``start()`` runs the prompt and returns the first scores; ``feed(ids)`` runs only ``ids`` on
    top of the cache; ``crop(n)`` forgets the last ``n`` fed positions. Scores are 1-D float32 on
    the CPU and are checked (NaN / +inf refused in plain words). Not thread-safe: one user.
    """

    def __init__(self, loaded: LoadedModel, prompt_ids: list[int]) -> None:
        self.loaded = loaded
        self.prompt_ids = list(prompt_ids)
        self.cache = None
        self.encoder_outputs = None
        self.forward_passes = 0
        self._threads: int | None = None
        self._last_only = takes_logits_to_keep(loaded.model)

    @property
    def threads(self) -> int:
        """The intra-op threads of this decoder's steps: chosen at the first step (in the worker, since
        reading how busy the cores are takes a tenth of a second), then kept, so one run's steps match."""
        if self._threads is None:
            self._threads = decode_threads(str(self._device()))
        return self._threads

    def _device(self):
        return next(self.loaded.model.parameters()).device

    def start(self) -> torch.Tensor:
        """Forget any cache, run the prompt and return the scores for the first new token."""
        model = self.loaded.model
        self.cache = None
        if self.loaded.is_encoder_decoder:
            with torch.inference_mode(), intra_op_threads(self.threads):
                ids = torch.tensor([self.prompt_ids], device=self._device())
                self.encoder_outputs = model.get_encoder()(input_ids=ids)
            start_id = model.config.decoder_start_token_id
            if start_id is None:
                start_id = model.config.pad_token_id or 0
            return self.feed([int(start_id)])
        return self.feed(self.prompt_ids)

    def feed(self, token_ids: list[int], every_position: bool = False) -> torch.Tensor:
        """Run the model on ``token_ids`` after what it has seen; the scores for the next token (or, with
        ``every_position``, ``[len(token_ids), vocab]`` scores: a speculative target's checking pass).

        On failure (invalid scores, an error in the model) the cache is put back as it was, so
        the caller's history and the cache still line up.
        """
        model = self.loaded.model
        ids = torch.tensor([token_ids], device=self._device())
        self.forward_passes += 1
        before = self.seq_length
        extra = {} if every_position or not self._last_only else {"logits_to_keep": 1}
        try:
            with torch.inference_mode(), intra_op_threads(self.threads):
                if self.loaded.is_encoder_decoder:
                    out = model(encoder_outputs=self.encoder_outputs, decoder_input_ids=ids, cache=self.cache,
                                use_cache=True, **extra)
                else:
                    out = model(input_ids=ids, cache=self.cache, use_cache=True, **extra)
            self.cache = out.cache
            logits = (out.logits[0] if every_position else out.logits[0, -1]).float().cpu()
            check_logits(logits)
        except BaseException:
            # The cache grows in place during the forward: take the failed tokens back out.
            extra = self.seq_length - before
            if extra > 0:
                self.cache.crop(-extra)
            raise
        return logits

    @property
    def seq_length(self) -> int:
        """Positions in the cache (the prompt, or the decoder start, and every token fed)."""
        return self.cache.get_seq_length() if self.cache is not None else 0

    def crop(self, drop: int) -> None:
        """Forget the last ``drop`` positions (going back to an earlier step)."""
        if drop:
            # transformers 5: a negative crop removes that many positions from the end.
            self.cache.crop(-drop)
