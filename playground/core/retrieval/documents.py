"""The documents a knowledge base holds: the bundled one (``resources/knowledge/``) and the learner's own
.txt, .md and .pdf files (PDF text through pypdf), each refused in plain words when it cannot be read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import Cancelled, InputError
from playground.core.base.progress import report_step

SUFFIXES = (".txt", ".md", ".pdf")
#: The one fallback decoding for text that is not UTF-8, named in the note that says it was used.
FALLBACK_ENCODING = "cp1252"


@dataclass(frozen=True)
class Document:
    """One document: ``id`` (the file's stem, unique in a base), its title, where it came from, its text."""

    id: str
    title: str
    source_path: str
    text: str
    size_bytes: int
    note: str = ""  # e.g. "read as Windows-1252: it is not UTF-8"

    @property
    def content_hash(self) -> str:
        """sha256 of the text: the index embeds a document again only when this changes."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Question:
    """A question of the bundled set with its gold answer and the id of the document that holds it."""

    id: str
    question: str
    answer: str
    passage_id: str


@dataclass
class KnowledgeBase:
    """A named set of documents and (for the bundled base) questions with gold answers."""

    name: str
    documents: list[Document]
    questions: list[Question] = field(default_factory=list)

    def document(self, doc_id: str) -> Document:
        for d in self.documents:
            if d.id == doc_id:
                return d
        raise KeyError(doc_id)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)


def knowledge_root() -> Path:
    """``resources/knowledge`` of the installed app (or the source tree)."""
    return Path(__file__).resolve().parents[3] / "resources" / "knowledge"


def bundled_names() -> list[str]:
    """The bundled knowledge bases (folders of ``resources/knowledge`` holding ``documents/``)."""
    root = knowledge_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "documents").is_dir())


def load_bundled(name: str | None = None) -> KnowledgeBase:
    """The bundled knowledge base ``name`` (default: the first one): its documents and questions.

    Layout: ``resources/knowledge/<name>/documents/*.md`` (first line ``# Title``; the id is the file
    stem) and ``resources/knowledge/<name>/questions.json``, a list of
    ``{"id", "question", "answer", "passage_id"}`` where ``passage_id`` is a document's id.
    """
    names = bundled_names()
    if not names:
        raise InputError("No bundled knowledge base was found.",
                         f"It should be in {knowledge_root()}; reinstall the app.")
    name = name or names[0]
    if name not in names:
        raise InputError(f"There is no bundled knowledge base called '{name}'.", f"Choose one of: {', '.join(names)}.")
    folder = knowledge_root() / name
    docs = load_files(sorted((folder / "documents").glob("*.md")))
    questions: list[Question] = []
    qfile = folder / "questions.json"
    if qfile.exists():
        raw = json.loads(qfile.read_text(encoding="utf-8"))
        if isinstance(raw, dict):  # {"questions": [...]} is accepted too
            raw = raw.get("questions", [])
        questions = [Question(str(q["id"]), str(q["question"]), str(q["answer"]), str(q["passage_id"]))
                     for q in raw]
    return KnowledgeBase(name, docs, questions)


def load_folder(folder: str | Path, handle=None) -> list[Document]:
    """Every .txt, .md and .pdf file in ``folder`` and its subfolders (others are skipped).

    Raises
    ------
    InputError
        The folder does not exist, or holds no file of those kinds.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"There is no folder {folder}.", "Choose a folder that holds .txt, .md or .pdf files.")
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not paths:
        raise InputError(f"The folder {folder} holds no .txt, .md or .pdf file.",
                         "Put your documents there (plain text, Markdown or PDF), or choose another folder.")
    return load_files(paths, handle)


def load_files(paths: Iterable[str | Path], handle=None) -> list[Document]:
    """Documents from .txt, .md and .pdf files, in order; a folder in ``paths`` is read with ``load_folder``.

    Ids are file stems, made unique with ``-2``, ``-3`` … when two files share one. A Markdown file
    whose first line is ``# Title`` takes that title; other files take their name.

    Raises
    ------
    InputError
        No files; a file of another kind; an empty file; a binary file; an encrypted or image-only PDF.
        The message names the file and says what to do.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise InputError("No files were given.", "Choose .txt, .md or .pdf files, or a folder of them.")
    out: list[Document] = []
    seen: dict[str, int] = {}
    for i, path in enumerate(paths):
        if handle is not None and handle.cancelled():
            raise Cancelled()
        report_step(handle, "Reading files", i, len(paths), path.name)
        if path.is_dir():
            docs = load_folder(path, handle)
        else:
            docs = [read_document(path)]
        for doc in docs:
            n = seen.get(doc.id, 0) + 1
            seen[doc.id] = n
            if n > 1:
                doc = Document(f"{doc.id}-{n}", doc.title, doc.source_path, doc.text, doc.size_bytes, doc.note)
            out.append(doc)
    report_step(handle, "Reading files", len(paths), len(paths))
    return out


def read_document(path: str | Path) -> Document:
    """One file as a Document (see ``load_files`` for what is refused)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"The file {path} does not exist.", "Check the name, or choose it again.")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path.name} is not a .txt, .md or .pdf file, so it cannot be read as a document.",
                         "Convert it to plain text or PDF first.")
    size = path.stat().st_size
    if suffix == ".pdf":
        text, note = _pdf_text(path), ""
    else:
        text, note = _plain_text(path)
    if not text.strip():
        raise InputError(f"{path.name} is empty: there is no text to search.", "Choose a file that holds text.")
    title = path.stem
    first = text.lstrip().split("\n", 1)[0].strip()
    if suffix == ".md" and first.startswith("# "):
        title = first[2:].strip() or title
    return Document(path.stem, title, str(path), text, size, note)


def _plain_text(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path.name} is a binary file, not text (it holds zero bytes).",
                         "Choose a plain text, Markdown or PDF file.")
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), ""
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError as exc:
        where = exc.start
    try:
        text = data.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text (the first bad byte is at position {where:,}), and it "
                         f"cannot be read as {FALLBACK_ENCODING} (Windows Western European) either.",
                         "Save it again as UTF-8 (most editors offer this under 'Save as').") from None
    return text, (f"{path.name} is not UTF-8 (the first bad byte is at position {where:,}); it was read as "
                  f"{FALLBACK_ENCODING} (Windows Western European). If letters look wrong, save it as UTF-8.")


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
        raise InputError(f"{path.name} cannot be read as a PDF ({exc}). It may be damaged or not a PDF at all.",
                         "Open it in a PDF viewer to check, or save it again as PDF.") from None
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")  # many PDFs are "encrypted" with an empty password (printing limits only)
        except Exception:
            ok = 0
        if not ok:
            raise InputError(f"{path.name} is an encrypted PDF: its text cannot be read without the password.",
                             "Open it with its password and save an unprotected copy, or export it as text.")
    pages = []
    try:
        for page in reader.pages:
            pages.append(page.extract_text() or "")
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise InputError(f"The text of {path.name} cannot be read ({type(exc).__name__}: {exc}).",
                         "Open it in a PDF viewer to check, or export it as text.") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise InputError(f"{path.name} has no text layer: its {len(pages)} page(s) are images (a scan), or it is empty.",
                         "Run it through OCR first, or choose a PDF made from text.")
    return text
