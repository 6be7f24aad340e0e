"""Notebook cells for the Structured output and ReAct sections (``{"kind": "structured"}`` / ``{"kind": "react"}``).

They rerun offline with transformers, xgrammar and jsonschema alone (no LLM Playground import), after the
notebook's set-up cells (``model``, ``tokenizer``, ``torch``, ``results``):

- structured: the question answered greedily, free and with xgrammar's own transformers logits processor over
  the schema's grammar; each answer parsed and validated (``results["structured"]``);
- react: the trace as the app recorded it, and the probability of each tool name at every Action line computed
  again with one forward pass per name (``results["react"]``).
"""

from __future__ import annotations

import json


def _lit(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def structured_cells(p: dict) -> list[tuple[str, str]]:
    from playground.core.reasoning.constrained import ANSWER_SCHEMA, MAX_JSON_TOKENS, structured_message

    schema = p.get("schema") or ANSWER_SCHEMA
    return [
        ("markdown", "## Structured output: free and constrained\n\nThe same question answered as JSON twice, "
                     "greedily: free, then with every token the schema's grammar forbids masked (xgrammar's "
                     f"transformers logits processor). App's answers: free `{p.get('free_text', '')}`; "
                     f"constrained `{p.get('constrained_text', '')}`."),
        ("code", f"""import json
import jsonschema
import xgrammar as xgr
from xgrammar.contrib.hf import LogitsProcessor

SCHEMA = json.loads({_lit(json.dumps(schema))})
MESSAGE = {_lit(structured_message(p.get("question", "")))}
prompt = (tokenizer.apply_chat_template([{{"role": "user", "content": MESSAGE}}], tokenize=False, add_generation_prompt=True)
          if tokenizer.chat_template else MESSAGE)
ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.get_output_embeddings().weight.shape[0],
                                          stop_token_ids=[tokenizer.eos_token_id])
grammar = xgr.GrammarCompiler(info).compile_json_schema(json.dumps(SCHEMA), any_whitespace=False)


def parses(text):
    start, end = text.find("{{"), text.rfind("}}")
    try:
        jsonschema.validate(json.loads(text[start:end + 1]), SCHEMA)
        return start >= 0
    except (ValueError, jsonschema.ValidationError):
        return False


structured = {{}}
for name, processors in (("free", []), ("constrained", [LogitsProcessor(grammar)])):
    out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens={MAX_JSON_TOKENS}, do_sample=False,
                         logits_processor=processors)
    text = tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    structured[name] = {{"text": text, "parsed": parses(text)}}
    print(name, "parses" if structured[name]["parsed"] else "does not parse", ":", text)
results["structured"] = structured"""),
    ]


def react_cells(p: dict) -> list[tuple[str, str]]:
    steps = p.get("steps", [])
    lines = []
    for i, s in enumerate(steps, 1):
        lines.append(f"{i}. **Thought:** {s['thought']}  ")
        if s.get("problem"):
            lines.append(f"   *{s['problem']}*")
        else:
            lines.append(f"   **Action:** `{s['action']}`  \n   **Observation:** {s['observation']}")
    return [
        ("markdown", f"## ReAct trace\n\nQuestion: {p.get('question', '')} (Action line "
                     f"{'constrained' if p.get('constrain') else 'free'}; ended: {p.get('status', '')}).\n\n"
         + "\n".join(lines) + "\n\nBelow, the probability of each tool name at every Action line, computed again."),
        ("code", f"""TOOLS = {_lit(p.get("tools", ["calculator", "search", "finish"]))}
PREFIXES = {_lit(p.get("prefixes", []))}  # the text the model had read at each Action line


def name_probability(prefix, name):
    p_ids = tokenizer(prefix, add_special_tokens=False).input_ids
    n_ids = tokenizer.encode(" " + name, add_special_tokens=False)
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([p_ids + n_ids])).logits[0].float(), -1)
    return float(torch.exp(sum(logp[len(p_ids) - 1 + j, t] for j, t in enumerate(n_ids))))


react = []
for i, prefix in enumerate(PREFIXES, 1):
    shares = {{name: name_probability(prefix, name) for name in TOOLS}}
    react.append(shares)
    print(f"step {{i}}:", ", ".join(f"{{k}} {{v:.1%}}" for k, v in shares.items()))
results["react"] = react"""),
    ]
