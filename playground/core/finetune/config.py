"""The settings of one fine-tuning job, read from and written to TOML.

The command line reads a TOML file; the GUI wizard writes the same format. Every section and key
is documented in the README ("Fine-tuning"). Unknown keys are refused by name, so a typo never
silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError

from playground.core.finetune.methods import METHOD_FACTS
from playground.core.prompting.prompts import CHAT_TEMPLATE_LABEL, USE_CHAT_TEMPLATE

METHODS = tuple(METHOD_FACTS)
SCHEDULES = ("cosine", "linear", "constant")
TRUNCATION = ("truncate_dialogue", "drop")
BATCHING = ("length_grouped", "random")
PRECISIONS = ("auto", "no", "bf16", "fp16")
#: Learning rates that work for each method on small models (AdamW).
DEFAULT_LR = {name: facts.learning_rate for name, facts in METHOD_FACTS.items()}


def _f(default, **metadata):
    """A field whose help (the README's job-file comment), label and range live on it, so the
    wizard's form rows, their tooltips and the README are made from one declaration."""
    return field(default=default, metadata=metadata)


@dataclass
class ModelConfig:
    source: str = _f("bundled",
                     help=('"bundled" (SmolLM2-135M-Instruct), a local model folder, or a Hugging Face id already '
                           'downloaded'))
    device: str = _f("auto", help='auto, cpu, cuda (under accelerate launch, each process gets its GPU)',
                     label='Train on')
    precision: str = _f("auto",
                        help=('auto: bf16 on GPUs that support it, else fp16; on the CPU bf16 where it has native '
                              'BF16 (AVX-512 BF16 or AMX), else float32 ("no"); or "no", "bf16", "fp16" (fp16 needs '
                              'a GPU). Weights stay float32; the forward pass runs in the lower precision (mixed '
                              'precision), and the run\'s report names it.'),
                        label='Precision',
                        choices=(("auto", "auto"), ("float32 (no mixed precision)", "no"), ("bf16", "bf16"),
                                 ("fp16 (GPU only)", "fp16")))


@dataclass
class DataConfig:
    source: str = _f("bundled",
                     help=('"bundled": the sample dialogues (train/validation/test splits), or your file: .csv, '
                           '.tsv, .jsonl, .json (a list of objects), .parquet'))
    validation: str = _f("", help='optional separate validation file (else split off source)')
    test: str = _f("", help='optional separate test file (else split off source)')
    # Which column holds the dialogue and which the summary ("" = guessed from the names).
    columns: dict = field(default_factory=lambda: {"dialogue": "", "summary": ""})
    template: str = _f("instruction",
                       help=('a Prompt tab template (instruction, flan, flan-brief, tldr) or your own text with '
                             '{dialogue} (and optionally {summary}), e.g. "Chat:\\n{dialogue}\\nIn short: {summary}"'))
    use_chat_template: bool = _f(USE_CHAT_TEMPLATE,
                                 help=("wrap the prompt in the model's chat template (on by default, as in "
                                       "every tab); the summary is then the assistant's answer"),
                                 text=CHAT_TEMPLATE_LABEL)
    validation_fraction: float = _f(0.1, help='share of source held out for validation (when no validation file)',
                                    label='Validation share', range=(0.0, 0.5, 0.05), decimals=2)
    test_fraction: float = _f(0.1, help='share of source held out for the test split (when no test file)',
                              label='Test share', range=(0.0, 0.5, 0.05), decimals=2)
    max_length: int = _f(768,
                         help='tokens per example, prompt + summary (at most the context window)',
                         label='Maximum length',
                         range=(16, 32768, 32))
    truncation: str = _f("truncate_dialogue",
                         help='truncate_dialogue or drop: what to do with longer examples (counted either way)',
                         label='Longer examples',
                         choices=(("Cut the conversation to fit", "truncate_dialogue"), ("Drop the example", "drop")))
    max_train_examples: int = _f(0, help='use only the first N training examples (0 = all)',
                                 label='Training examples', range=(0, 1000000), special='all')
    max_validation_examples: int = _f(0, help='measure the validation loss on only the first N validation examples '
                                              '(0 = all)',
                                      label='Validation examples', range=(0, 1000000), special='all')


@dataclass
class LoraSettings:
    rank: int = _f(8,
                   help='size of the low-rank matrices: more = more capacity, more parameters',
                   label='Rank',
                   range=(1, 512))
    alpha: int = _f(16, help='scale of the update (alpha / rank multiplies it)', label='Alpha', range=(1, 1024))
    dropout: float = _f(0.05, help='dropout on the LoRA input while training, against overfitting a small dataset',
                        label='Dropout', range=(0.0, 0.9, 0.05), decimals=2)
    target_modules: list | str = _f("auto", help='"auto" (per architecture) or a list: ["q_proj", "v_proj"]',
                                    label='Layers', placeholder='auto')


@dataclass
class PromptTuningSettings:
    virtual_tokens: int = _f(20, help='length of the soft prompt', label='Virtual tokens', range=(1, 512))
    init: str = _f("text", help='"text": start from the embeddings of init_text; or "random"', label='Start from',
                   choices=(("From the words below", "text"), ("Random", "random")))
    init_text: str = _f("Summarize the following conversation.",
                        help='the words whose embeddings start the soft prompt (init = "text")', label='Words')


@dataclass
class MethodConfig:
    name: str = _f("lora", help='lora, full, prompt_tuning', label='Method',
                   choices=tuple((f.label, f.name) for f in METHOD_FACTS.values()))
    lora: LoraSettings = field(default_factory=LoraSettings)
    prompt_tuning: PromptTuningSettings = field(default_factory=PromptTuningSettings)


@dataclass
class TrainingConfig:
    epochs: float = _f(1.0,
                       help='may be a fraction: 0.25 trains on a quarter of the data',
                       label='Epochs',
                       range=(0.05, 100.0, 0.5), decimals=2)
    max_steps: int = _f(0, help='> 0: exactly this many optimizer steps (overrides epochs)', label='Max steps',
                        range=(0, 1000000), special='off (epochs decide)')
    learning_rate: float | str = _f("auto", help='auto: 3e-4 LoRA, 3e-5 full, 3e-2 prompt tuning; or a number',
                                    label='Learning rate')
    schedule: str = _f("cosine", help='cosine, linear, constant (after the warm-up)', label='Schedule',
                       choices=SCHEDULES)
    warmup_ratio: float = _f(0.05,
                             help='share of the steps spent ramping the learning rate up',
                             label='Warm-up share',
                             range=(0.0, 0.5, 0.05), decimals=2)
    weight_decay: float = 0.0
    max_grad_norm: float = _f(1.0, help='gradient clipping (0 = off)')
    micro_batch_size: int = _f(1,
                               help='examples per forward pass, per process',
                               label='Micro-batch',
                               range=(1, 256))
    gradient_accumulation_steps: int = _f(8,
                                          help=('micro-batches per optimizer step; the effective batch is '
                                                'micro_batch_size x accumulation x processes'),
                                          label='Accumulation',
                                          range=(1, 1024))
    batching: str = _f("length_grouped",
                       help=('length_grouped (similar lengths together: little padding; a step\'s examples run '
                             'in length-sorted passes of up to micro_batch_size x max_length tokens, the same '
                             'gradient in fewer passes) or random (one planned micro-batch per pass)'))
    gradient_checkpointing: bool = _f(False,
                                      help='recompute activations in the backward pass: less memory, more time',
                                      text='Gradient checkpointing')
    eval_every: int = _f(50,
                         help='validation loss every N steps (and at step 0 and at the end; 0 = end only)',
                         label='Validation every',
                         range=(0, 100000), special='only at the end')
    save_every: int = _f(50,
                         help='checkpoint every N steps (0 = none; a Stop still writes one)',
                         label='Checkpoint every',
                         range=(0, 100000), special='only on Stop')
    keep_checkpoints: int = _f(2, help='newest checkpoints kept while the run goes')
    save_on_stop: bool = _f(True, help='a Stop writes a checkpoint first, so nothing is lost')
    seed: int = _f(0, help='data order, splits, initialisation and dropout', label='Seed', range=(0, 2147483647))


@dataclass
class EvaluationConfig:
    test_examples: int = _f(20,
                            help=('test dialogues summarized (greedy, with the training template) and scored with '
                                  'ROUGE and BLEU by the evaluation core (0 = skip)'),
                            label='Test dialogues',
                            range=(0, 10000), special='none')
    max_new_tokens: int = _f(128, help='most tokens per test summary (the bundled references are 30-115 long)',
                             label='Tokens per summary', range=(1, 1024))
    before: bool = _f(True, help='also score the model before fine-tuning (zero-shot)')


@dataclass
class OutputConfig:
    dir: str = "runs/finetune"
    overwrite: bool = False


@dataclass
class FinetuneConfig:
    """Everything one fine-tuning job needs; ``validate`` checks it in plain words."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    @property
    def learning_rate(self) -> float:
        lr = self.training.learning_rate
        return DEFAULT_LR[self.method.name] if lr == "auto" else float(lr)

    def validate(self) -> "FinetuneConfig":
        """Refuse impossible settings with a message that names the key."""
        t, d, m = self.training, self.data, self.method

        def need(ok: bool, key: str, what: str) -> None:
            if not ok:
                raise InputError(f"The setting {key} {what}.", "Fix it in the job's TOML file or in the wizard.")

        need(m.name in METHODS, "method.name", f"must be one of {', '.join(METHODS)} (it is {m.name!r})")
        need(t.schedule in SCHEDULES, "training.schedule", f"must be one of {', '.join(SCHEDULES)}")
        need(d.truncation in TRUNCATION, "data.truncation", f"must be one of {', '.join(TRUNCATION)}")
        need(t.batching in BATCHING, "training.batching", f"must be one of {', '.join(BATCHING)}")
        need(self.model.precision in PRECISIONS, "model.precision", f"must be one of {', '.join(PRECISIONS)}")
        need(t.learning_rate == "auto" or (isinstance(t.learning_rate, (int, float)) and t.learning_rate > 0),
             "training.learning_rate", "must be a positive number or \"auto\"")
        need(t.epochs > 0 or t.max_steps > 0, "training.epochs", "must be above 0 (or set training.max_steps)")
        need(t.max_steps >= 0, "training.max_steps", "cannot be negative")
        need(t.micro_batch_size >= 1, "training.micro_batch_size", "must be at least 1")
        need(t.gradient_accumulation_steps >= 1, "training.gradient_accumulation_steps", "must be at least 1")
        need(0 <= t.warmup_ratio < 1, "training.warmup_ratio", "must be between 0 and 1")
        need(t.eval_every >= 0 and t.save_every >= 0, "training.eval_every / save_every", "cannot be negative")
        need(t.keep_checkpoints >= 1, "training.keep_checkpoints", "must be at least 1")
        need(d.max_length >= 8, "data.max_length", "must be at least 8 tokens")
        need(0 <= d.validation_fraction < 1 and 0 <= d.test_fraction < 1
             and d.validation_fraction + d.test_fraction < 1,
             "data.validation_fraction + test_fraction", "must be below 1")
        need(set(d.columns) <= {"dialogue", "summary"}, "data.columns",
             "may only name the 'dialogue' and 'summary' columns")
        from playground.core.prompting.prompts import resolve_template

        try:
            resolve_template(d.template)
        except InputError as exc:
            raise InputError(f"The setting data.template: {exc.message}", exc.hint) from None
        need(m.lora.rank >= 1 and m.lora.alpha > 0 and 0 <= m.lora.dropout < 1, "method.lora",
             "needs rank >= 1, alpha > 0 and 0 <= dropout < 1")
        need(m.prompt_tuning.virtual_tokens >= 1, "method.prompt_tuning.virtual_tokens", "must be at least 1")
        need(m.prompt_tuning.init in ("text", "random"), "method.prompt_tuning.init", "must be text or random")
        need(self.evaluation.test_examples >= 0 and self.evaluation.max_new_tokens >= 1, "evaluation",
             "needs test_examples >= 0 and max_new_tokens >= 1")
        need(bool(self.output.dir.strip()), "output.dir", "is empty")
        return self

    # --- (de)serialization ----------------------------------------------------------------------

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict, where: str = "the job settings") -> "FinetuneConfig":
        return _build(FinetuneConfig, data, "", where)

    def to_toml(self) -> str:
        return dump_toml(self.to_dict())

    def with_paths_resolved(self, base: Path) -> "FinetuneConfig":
        """A copy whose relative file paths are taken relative to ``base`` (the TOML's folder)."""
        cfg = FinetuneConfig.from_dict(self.to_dict())

        def fix(p: str) -> str:
            if not p or p == "bundled" or os.path.isabs(os.path.expanduser(p)):
                return os.path.expanduser(p)
            return str((base / p).resolve())

        cfg.data.source, cfg.data.validation, cfg.data.test = (fix(cfg.data.source), fix(cfg.data.validation),
                                                               fix(cfg.data.test))
        cfg.output.dir = fix(cfg.output.dir)
        src = cfg.model.source
        if src.startswith((".", "/", "~")) or (base / src).exists():
            cfg.model.source = fix(src)
        return cfg


def load_config(path: str | Path) -> FinetuneConfig:
    """Read a job's TOML file; relative paths are relative to the file's folder.

    Raises
    ------
    InputError
        When the file is missing, is not valid TOML, or holds unknown keys or wrong types.
    """
    path = Path(path)
    cfg = FinetuneConfig.from_dict(read_job_file(path, "Fine-tuning"), path.name)
    return cfg.with_paths_resolved(path.parent.resolve()).validate()


def read_job_file(path: Path, readme_section: str) -> dict:
    """A job file's TOML as a dict; a missing file, non-UTF-8 text or bad TOML is an InputError that points to
    the README's section on the format (the fine-tuning and distillation jobs read their files alike)."""
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"The job file {path} does not exist.", "Check the path.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text.", "Save it as UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name} is not valid TOML: {exc}.",
                         f"The format is in the README, under \"{readme_section}\".") from None


def _build(cls, data, prefix: str, where: str):
    if not isinstance(data, dict):
        raise InputError(f"[{prefix.rstrip('.')}] in {where} must be a table.")
    kwargs = {}
    names = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in data.items():
        if key not in names:
            raise InputError(f"Unknown setting '{prefix}{key}' in {where}.",
                             f"Known settings here: {', '.join(names)}. The README lists them under \"Fine-tuning\".")
        f = names[key]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            kwargs[key] = _build(type(default), value, f"{prefix}{key}.", where)
        else:
            kwargs[key] = _check_type(value, default, f"{prefix}{key}", where)
    return cls(**kwargs)


def _check_type(value, default, key: str, where: str):
    ok = True
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float) and not isinstance(default, bool):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, dict):
        ok = isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    elif key.endswith("learning_rate"):
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
        if not ok:
            raise InputError(f"The setting '{key}' in {where} has the wrong type: it must be a number or \"auto\" "
                             f"(it is a {_toml_type(value)}: {value!r}).", f"For example: {key.split('.')[-1]} = 2e-4.")
    elif key.endswith("target_modules"):
        ok = isinstance(value, str) or isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not ok:
            raise InputError(f"The setting '{key}' in {where} has the wrong type: it must be \"auto\" or a list of layer names "
                             f"(it is a {_toml_type(value)}: {value!r}).",
                             'For example: target_modules = ["q_proj", "v_proj"], or "auto".')
    elif isinstance(default, str):
        ok = isinstance(value, str)
    if not ok:
        raise InputError(f"The setting '{key}' in {where} has the wrong type: it must be {_toml_type(default, article=True)} "
                         f"(it is {_toml_type(value, article=True)}: {value!r}).",
                         f"It should look like {key.split('.')[-1]} = {dump_toml({'x': default}).split(' = ', 1)[1].strip()}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"The setting '{key}' in {where} is {value}, which is not a number that can be used.",
                         "Give it an ordinary number.")
    return value


_TOML_NAMES = ((bool, "true or false"), (int, "whole number"), (float, "number"), (str, "text in quotes"),
               (list, "list"), (dict, "table"))


def _toml_type(value, article: bool = False) -> str:
    """How a TOML user would name a value's type: text, a whole number, true/false, a list..."""
    name = next((n for t, n in _TOML_NAMES if isinstance(value, t)), type(value).__name__)
    if not article or name in ("true or false", "text in quotes"):
        return name
    return ("an " if name[0] in "aeiou" else "a ") + name


def dump_toml(data: dict) -> str:
    """Write nested dicts of str / int / float / bool / list / dict as TOML (what tomllib reads back)."""
    lines: list[str] = []

    def scalar(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    def table(d: dict, name: str) -> None:
        plain = {k: v for k, v in d.items() if not isinstance(v, dict)}
        nested = {k: v for k, v in d.items() if isinstance(v, dict)}
        if name and (plain or not nested):
            lines.append(f"\n[{name}]")
        for k, v in plain.items():
            lines.append(f"{k} = {scalar(v)}")
        for k, v in nested.items():
            table(v, f"{name}.{k}" if name else k)

    table(data, "")
    return "\n".join(lines).lstrip("\n") + "\n"
