"""Reading a corpus handed over as many files: a folder, or a zip (its path, or its bytes
from an upload), for the readers of formats that come as a set of files (brat, technique
span files)."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from .text import IngestError

# What a zip may unpack to, all its files together: the request size limits what is sent, not
# what a small archive of repeated bytes expands to in memory (a zip bomb).
MAX_UNPACKED_BYTES = 256 * 2**20


def corpus_files(path_or_bytes: str | os.PathLike[str] | bytes, source: str, *, expected: str,
                 keep: Callable[[str], bool] = lambda relative: True) -> dict[str, bytes] | IngestError:
    """Relative path (with "/") -> content of each file of the folder or zip that ``keep``
    keeps, hidden files and macOS's ``__MACOSX`` copies left out; ``expected`` says what the
    input should have been when it is neither a folder nor a zip."""

    def wanted(relative: str) -> bool:
        return keep(relative) and not any(part.startswith(".") or part == "__MACOSX"
                                          for part in PurePosixPath(relative).parts)

    try:
        if not isinstance(path_or_bytes, bytes) and Path(path_or_bytes).is_dir():
            root = Path(path_or_bytes)
            return {relative: path.read_bytes() for path in sorted(root.rglob("*"))
                    if path.is_file() and wanted(relative := path.relative_to(root).as_posix())}
        data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [info for info in archive.infolist() if not info.is_dir() and wanted(info.filename)]
            # zipfile reads no more than a member's declared size, so the sum bounds the memory.
            unpacked = sum(info.file_size for info in members)
            if unpacked > MAX_UNPACKED_BYTES:
                return IngestError(source, f"the zip unpacks to {unpacked:,} bytes, more than the "
                                           f"{MAX_UNPACKED_BYTES:,} an import takes; split the corpus")
            return {info.filename: archive.read(info) for info in members}
    except OSError as error:
        return IngestError(source, f"cannot read: {error.strerror or error}")
    except zipfile.BadZipFile:
        return IngestError(source, f"{expected}; this is neither")
