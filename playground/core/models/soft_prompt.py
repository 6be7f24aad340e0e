"""A prompt-tuned model every tab can use: the base model with its learned soft prompt in front.

peft's prompt-tuning model prepends the soft prompt on *every* forward call, which is right for
training and for ``generate`` (peft adjusts its generation inputs) but wrong for the app's own
token-by-token loops, which feed one new token at a time with a KV cache. ``SoftPromptModel``
prepends the virtual tokens only to the first call of a sequence (no cache yet) and hides their
positions from the logits it returns, so every caller sees logits for its own tokens; later calls
pass straight through (the cache already holds the soft prompt).
"""

from __future__ import annotations

from dataclasses import replace

from playground.core.base.errors import PlaygroundError


def soft_prompt_of(peft_model):
    """The learned virtual-token embeddings of a peft prompt-tuning model, (virtual tokens, hidden)."""
    import torch

    with torch.no_grad():
        prompts = peft_model.get_prompt(batch_size=1)
    return prompts[0].detach()


def make_soft_prompt_model(base_model, prompt):
    """Wrap ``base_model`` (a transformers causal LM) so its inputs start with ``prompt``.

    Parameters
    ----------
    base_model
        The plain (not peft) decoder-only model, shared, never changed.
    prompt
        (virtual tokens, hidden size) embeddings, e.g. from :func:`soft_prompt_of`.
    """
    import torch

    class SoftPromptModel(torch.nn.Module):
        """The base model reading a soft prompt before every new sequence."""

        def __init__(self, base, soft) -> None:
            super().__init__()
            self.base = base
            emb = base.get_input_embeddings().weight
            self.register_buffer("soft_prompt", soft.to(device=emb.device, dtype=emb.dtype), persistent=False)

        @property
        def num_virtual_tokens(self) -> int:
            return int(self.soft_prompt.shape[0])

        @property
        def config(self):
            return self.base.config

        @property
        def generation_config(self):
            return self.base.generation_config

        @property
        def device(self):
            return self.soft_prompt.device

        def get_input_embeddings(self):
            return self.base.get_input_embeddings()

        def set_attn_implementation(self, implementation) -> None:
            self.base.set_attn_implementation(implementation)

        def _first_call(self, cache) -> bool:
            if cache is None:
                return True
            get_len = getattr(cache, "get_seq_length", None)
            return get_len is not None and int(get_len()) == 0

        def forward(self, input_ids=None, attention_mask=None, cache=None, inputs_embeds=None,
                    position_ids=None, **kwargs):
            # The KV cache comes as ``cache`` (transformers 5; ``past_key_values`` is deprecated there).
            if not self._first_call(cache):
                if attention_mask is not None:
                    ones = torch.ones(attention_mask.shape[0], self.num_virtual_tokens, dtype=attention_mask.dtype,
                                      device=attention_mask.device)
                    attention_mask = torch.cat([ones, attention_mask], dim=1)
                return self.base(input_ids=input_ids, attention_mask=attention_mask, cache=cache,
                                 inputs_embeds=inputs_embeds, **kwargs)
            if inputs_embeds is None:
                inputs_embeds = self.base.get_input_embeddings()(input_ids)
            batch = inputs_embeds.shape[0]
            soft = self.soft_prompt.unsqueeze(0).expand(batch, -1, -1).to(inputs_embeds.dtype)
            embeds = torch.cat([soft, inputs_embeds], dim=1)
            if attention_mask is not None:
                ones = torch.ones(batch, self.num_virtual_tokens, dtype=attention_mask.dtype,
                                  device=attention_mask.device)
                attention_mask = torch.cat([ones, attention_mask], dim=1)
            kwargs.pop("logits_to_keep", None)
            out = self.base(inputs_embeds=embeds, attention_mask=attention_mask, cache=cache, **kwargs)
            if getattr(out, "logits", None) is not None and out.logits.shape[1] > self.num_virtual_tokens:
                out.logits = out.logits[:, self.num_virtual_tokens:]  # the callers' tokens only
            return out

        def generate(self, input_ids=None, attention_mask=None, **kwargs):
            """transformers' generate from the soft prompt + ``input_ids``; returns prompt + new tokens."""
            embeds = self.base.get_input_embeddings()(input_ids)
            batch = embeds.shape[0]
            soft = self.soft_prompt.unsqueeze(0).expand(batch, -1, -1).to(embeds.dtype)
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            mask = torch.cat([torch.ones(batch, self.num_virtual_tokens, dtype=attention_mask.dtype,
                                         device=attention_mask.device), attention_mask], dim=1)
            new = self.base.generate(inputs_embeds=torch.cat([soft, embeds], dim=1), attention_mask=mask, **kwargs)
            return torch.cat([input_ids, new], dim=1)  # with inputs_embeds, generate returns only new tokens

    return SoftPromptModel(base_model, prompt)


def with_soft_prompt(loaded, peft_model, name_suffix: str = ""):
    """A LoadedModel of ``loaded``'s own model reading the soft prompt of ``peft_model``.

    Raises
    ------
    PlaygroundError
        For encoder-decoder models (their soft prompt goes to the encoder and the decoder, which
        the app's loops do not feed): evaluate those in the Evaluate tab instead.
    """
    if loaded.is_encoder_decoder:
        raise PlaygroundError("A prompt-tuned encoder-decoder model cannot be used in every tab.",
                              "Score it in the Evaluate tab (Saved adapter), or train LoRA to try it everywhere.")
    model = make_soft_prompt_model(loaded.model, soft_prompt_of(peft_model))
    model.eval()
    from playground.core.models.loading import LoadedModel

    return LoadedModel(model=model, tokenizer=loaded.tokenizer, info=replace(loaded.info, name=loaded.info.name + name_suffix),
                       source=loaded.source, extras=dict(loaded.extras) | {"peft_type": "PROMPT_TUNING"})
