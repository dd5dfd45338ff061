"""The search index as one shareable file: built once per content version, used everywhere.

A background task (knowledge/search/tasks.py) builds the index after an edit and stores it in
the database (SearchIndexArtefact). A web process that needs that version copies it once to a
file in SEARCH_INDEX_DIR (shared by the processes of a machine) and maps the file into memory:
the large numpy arrays (postings, norms, phrases) are read straight from the mapping, not
copied, so the processes of a machine share one copy in the page cache and a process switching
to a new index does not hold two copies of its arrays at once. Only the small Python parts (the
vocabulary, phrase tables, document texts) are unpickled into each process.

The file holds the content alone (not the version token or timings), so the same content makes
the same bytes, and a file is named by their SHA-256 (`digest`). A new version token with the
same content — Redis restarted empty, and the version counters with it — then names the same
index: a process already holding it keeps it (`fetch(token, reuse=…)`) instead of loading a
second copy of its Python parts, which would raise every worker's resident size once more.

The copy from the database is read in pieces of CHUNK_BYTES: one query returning the whole
index would leave the connection (persistent in production) holding a buffer of twice its size
(PostgreSQL sends bytea hex-encoded, and libpq keeps its input buffer at the largest message it
has received) for as long as the connection lives: ≈ 55 MB in every web worker that copied a
27 MB index, on top of the index itself.

File layout: MAGIC, the pickle's length, the number of buffers, (offset, length) per buffer, the
pickle (protocol 5, numpy arrays out of band), then each buffer at a 64-byte aligned offset.
"""

import contextlib
import hashlib
import logging
import mmap
import os
import pickle
import struct
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db.models import BinaryField
from django.db.models.functions import Substr

logger = logging.getLogger(__name__)

MAGIC = b"DDSIDX01"
KEEP_ROWS = 3  # artefacts kept in the database
KEEP_FILES = 3  # files kept on each machine
CHUNK_BYTES = 2 * 1024 * 1024  # read from the database at a time when copying an index
_SKIP = {"_deletes", "_fuzzy_lock"}
_NOT_CONTENT = {"token", "digest", "build_seconds", "load_seconds", "mapped_file"}


def dumps(index) -> bytes:
    """The index as bytes (see the module docstring)."""
    state = {k: v for k, v in index.__dict__.items() if k not in _SKIP | _NOT_CONTENT}
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(state, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    header_size = len(MAGIC) + 12 + 16 * len(raws)
    offset = _aligned(header_size + len(payload))
    table = []
    for raw in raws:
        table.append((offset, raw.nbytes))
        offset = _aligned(offset + raw.nbytes)
    out = bytearray(offset)
    struct.pack_into("<8sQI", out, 0, MAGIC, len(payload), len(raws))
    for number, (start, length) in enumerate(table):
        struct.pack_into("<QQ", out, len(MAGIC) + 12 + 16 * number, start, length)
    out[header_size : header_size + len(payload)] = payload
    for (start, length), raw in zip(table, raws, strict=True):
        out[start : start + length] = raw
    return bytes(out)


def _aligned(offset: int) -> int:
    return (offset + 63) // 64 * 64


def load(path: Path):
    """The index stored in the file at `path`, its arrays mapped from the file (read-only)."""
    from knowledge.search.index import SearchIndex

    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    view = memoryview(mapped)
    magic, payload_size, count = struct.unpack_from("<8sQI", view, 0)
    if magic != MAGIC:
        raise ValueError(f"{path} is not a search index file")
    header_size = len(MAGIC) + 12 + 16 * count
    buffers = []
    for number in range(count):
        start, length = struct.unpack_from("<QQ", view, len(MAGIC) + 12 + 16 * number)
        buffers.append(view[start : start + length])
    state = pickle.loads(view[header_size : header_size + payload_size], buffers=buffers)  # noqa: S301 - our own file, written by dumps()
    index = SearchIndex.__new__(SearchIndex)
    index.token = index.digest = None
    index.__dict__.update(state)
    index._deletes = None
    index._fuzzy_lock = threading.Lock()
    index.mapped_file = str(path)
    return index


# --- shared through the database ----------------------------------------------------------------


def publish(index) -> int:
    """Store a built index for every process; returns its size in bytes."""
    from knowledge.models import SearchIndexArtefact

    data = dumps(index)
    index.digest = hashlib.sha256(data).digest()
    SearchIndexArtefact.objects.update_or_create(
        token=index.token,
        defaults={
            "data": data,
            "digest": index.digest,
            "size": len(data),
            "documents": len(index.docs),
            "build_seconds": round(getattr(index, "build_seconds", 0.0), 3),
        },
    )
    keep = SearchIndexArtefact.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)
    SearchIndexArtefact.objects.exclude(pk__in=list(keep[:KEEP_ROWS])).delete()
    return len(data)


def exists(token: str) -> bool:
    from knowledge.models import SearchIndexArtefact

    return SearchIndexArtefact.objects.filter(token=token).exists()


def latest_token() -> str | None:
    from knowledge.models import SearchIndexArtefact

    return (
        SearchIndexArtefact.objects.order_by("-created_at", "-pk")
        .values_list("token", flat=True)
        .first()
    )


def directory() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


def _file_for(name: str) -> Path:
    safe = "".join(c for c in name if c.isalnum())[:64] or "index"
    return directory() / f"{safe}.idx"


def fetch(token: str, reuse=None):
    """The index of version `token` from this machine's file, copied from the database first
    if needed; None when no process has built that version yet. When `reuse` (the index the
    process holds) has the same content, it is that index, now under `token`: nothing loaded."""
    from knowledge.models import SearchIndexArtefact

    row = (
        SearchIndexArtefact.objects.filter(token=token)
        .values_list("pk", "digest", "build_seconds")
        .first()
    )
    if row is None:
        return None
    pk, digest, build_seconds = row
    digest = bytes(digest or b"")
    if reuse is not None and digest and getattr(reuse, "digest", None) == digest:
        reuse.token = token
        return reuse
    path = _file_for(digest.hex() or token)  # (stored before digests: named by its token)
    if not path.exists():
        if not _copy(pk, path):
            return None
        _remove_old_files(keep=path)
    started = time.perf_counter()
    index = load(path)
    index.token, index.digest, index.build_seconds = token, digest or None, build_seconds
    index.load_seconds = time.perf_counter() - started
    return index


def _copy(pk: int, path: Path) -> bool:
    """Copy artefact `pk` to `path` in pieces (see the module docstring); False when the row
    went away meanwhile (a newer index replaced it)."""
    from knowledge.models import SearchIndexArtefact

    rows = SearchIndexArtefact.objects.filter(pk=pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under another name and renamed: a process never maps a half-written file.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as out:
        try:
            position = 1  # SQL counts bytes from 1
            while True:
                piece = rows.values_list(
                    Substr("data", position, CHUNK_BYTES, output_field=BinaryField()), flat=True
                ).first()
                if piece is None:
                    os.unlink(out.name)
                    return False
                out.write(piece)
                position += len(piece)
                if len(piece) < CHUNK_BYTES:
                    break
        except BaseException:
            os.unlink(out.name)
            raise
    os.replace(out.name, path)
    return True


def _remove_old_files(*, keep: Path):
    files = sorted(directory().glob("*.idx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP_FILES:]:
        if old != keep:
            # A process still mapping it keeps its pages until it lets go (POSIX).
            with contextlib.suppress(OSError):
                old.unlink()
