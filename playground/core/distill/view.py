"""What the student learns from, on one context: the teacher's and the student's next-token
probabilities side by side, the KL between them at every position, and the teacher's soft targets
at T = 1 and at the chosen T (the small probabilities a higher T brings out: "dark knowledge")."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.distill.config import check_temperature
from playground.core.distill.loss import token_kl

DEFAULT_CONTEXT = "#Person1#: Shall we have lunch tomorrow?\n#Person2#: Yes, let's meet at"


@dataclass
class NextTokenView:
    """The comparison on one context (probabilities 0-1, KL in nats)."""

    context_tokens: list          # the context's pieces, as text
    kl_per_token: list            # KL(teacher ‖ student) at T = 1 at each position (what it predicts next)
    tokens: list                  # the next-token candidates shown: the teacher's top ones, then the student's
    teacher: list                 # their probabilities under the teacher, T = 1
    student: list                 # under the student, T = 1
    soft_t1: list                 # the teacher's top tokens' probabilities at T = 1 ...
    soft_t: list                  # ... and at the chosen T
    soft_tokens: list = field(default_factory=list)
    temperature: float = 1.0
    rest_t1: float = 0.0          # probability outside the teacher's top-1 at T = 1
    rest_t: float = 0.0           # the same at T: what the soft targets carry besides the answer

    @property
    def last_kl(self) -> float:
        return self.kl_per_token[-1] if self.kl_per_token else 0.0


def _piece(tokenizer, i: int) -> str:
    return tokenizer.decode([int(i)]).replace("\n", "\\n") or repr(tokenizer.convert_ids_to_tokens(int(i)))


def next_token_view(teacher, student, tokenizer, context: str, temperature: float, top_k: int = 8) -> NextTokenView:
    """Compare teacher and student on ``context`` (both read the same tokens).

    ``student`` may be None (not trained yet): its columns are then empty and the KL is not shown.
    """
    import torch

    check_temperature(temperature)
    ids = tokenizer(context, return_tensors="pt").input_ids[:, -256:]
    if ids.shape[1] == 0:
        from playground.core.base.errors import InputError

        raise InputError("The context is empty.", "Type a few words for both models to continue.")
    device = next(teacher.parameters()).device
    with torch.no_grad():
        t_logits = teacher(input_ids=ids.to(device)).logits[0].float().cpu()
        s_logits = student(input_ids=ids.to(next(student.parameters()).device)).logits[0].float().cpu() \
            if student is not None else None
    p_t = torch.softmax(t_logits[-1], -1)
    top_t = torch.topk(p_t, top_k).indices.tolist()
    chosen = list(top_t)
    kl, p_s = [], None
    if s_logits is not None:
        p_s = torch.softmax(s_logits[-1], -1)
        chosen += [i for i in torch.topk(p_s, top_k // 2).indices.tolist() if i not in chosen]
        kl = token_kl(s_logits, t_logits, 1.0).tolist()
    soft_t = torch.softmax(t_logits[-1] / temperature, -1)
    return NextTokenView(
        context_tokens=[_piece(tokenizer, i) for i in ids[0].tolist()], kl_per_token=kl,
        tokens=[_piece(tokenizer, i) for i in chosen], teacher=[float(p_t[i]) for i in chosen],
        student=[float(p_s[i]) for i in chosen] if p_s is not None else [],
        soft_tokens=[_piece(tokenizer, i) for i in top_t], soft_t1=[float(p_t[i]) for i in top_t],
        soft_t=[float(soft_t[i]) for i in top_t], temperature=temperature,
        rest_t1=1.0 - float(p_t.max()), rest_t=1.0 - float(soft_t.max()))
