"""Downloading and unpacking, one way for every input: source corpora, pretrained models
and benchmarks.

Transfers: a file at a URL (curl, resuming a partial file as the authors' ``curl -L -C -``),
one file or a snapshot of a Hugging Face hub repo (resolved to its commit), a Google Drive
file or folder (gdown), a Kaggle dataset (the kaggle CLI). Each finished transfer is
recorded in ``<dest>/.fetch/manifest.json`` with the size and sha256 of every file it
brought; a transfer already recorded there whose files are still in place (or were
unpacked) is not done again. A download's bytes live in ``<dest>.download``, a folder no
rule declares (:func:`fetch_into`): Snakemake deletes the output of a failed job, and the
output of a job it reruns (a config edit to the source) before the job starts, so a
partial file, an archive that did not unpack or a finished download must live elsewhere
to be continued or reused. The folder is marked complete (``.fetch/complete.json``, with
what was asked for) once every step is done, and ``dest`` becomes a link to it, which is
all Snakemake deletes; a folder without that marker, such as one left by a killed run or
asked for something else, is continued step by step, trusting only what the manifest and
the unpack markers vouch for. The bookkeeping lives in
a hidden directory so that converters globbing the top level (and ``datasets`` resolving a
snapshot's data files) do not see it.

Archives are recognised by their content, never by their name (``.../download`` and
``x.zip?download=1`` are what URLs give), and every member is checked before it is written:
no absolute path, no ``..``, no link leading out of the destination; tars also go through
tarfile's ``data`` filter. A finished extraction leaves ``<dest>/.<archive name>.unpacked``,
so a rerun skips it, and an extraction cut short (no marker) is done again.
"""

from __future__ import annotations

import bz2
import contextlib
import datetime
import gzip
import io
import json
import logging
import lzma
import os
import shutil
import stat
import subprocess
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import IO, Any

from alarm.files import file_checksum, write_json

log = logging.getLogger(__name__)

BOOKKEEPING = ".fetch"
MANIFEST = f"{BOOKKEEPING}/manifest.json"
COMPLETE = f"{BOOKKEEPING}/complete.json"
# Directories a transfer tool keeps its own state in; never counted as downloaded files.
_NOT_DOWNLOADED = {BOOKKEEPING, ".cache"}

PathLike = str | os.PathLike


class FetchError(RuntimeError):
    pass


class ChecksumError(FetchError):
    pass


class ArchiveError(FetchError):
    pass


class UnsafeArchiveError(ArchiveError):
    """A member that would be written outside the destination (or cannot be checked)."""

    def __init__(self, archive: PathLike, member: str, reason: str):
        super().__init__(f"unsafe archive {archive}: member {member!r} {reason}")
        self.archive = str(archive)
        self.member = member


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


# --- the output directory: completion marker and manifest ------------------------------


def already_complete(dest: PathLike, request: Any) -> bool:
    """Whether ``dest`` holds a finished fetch of ``request`` (any JSON value).

    A marker for another request (the config changed) or an unreadable one is removed, so
    a run that is killed from here on cannot leave the directory looking finished.
    """
    marker = Path(dest) / COMPLETE
    if not marker.is_file():
        return False
    try:
        done = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        done = None
    if isinstance(done, dict) and _canonical(done.get("request")) == _canonical(request):
        return True
    marker.unlink()
    return False


def mark_complete(dest: PathLike, request: Any) -> None:
    """Mark ``dest`` as a finished fetch of ``request``: the last step of a download."""
    write_json({"request": request, "completed": _now()}, Path(dest) / COMPLETE)


def staging_dir(dest: PathLike) -> Path:
    """Where a download into ``dest`` keeps its bytes: the sibling ``<dest>.download``,
    which no rule declares (Snakemake deletes a failed job's output, and a rerun job's
    before it starts); ``dest`` is a relative link to it once the download is complete, the
    same link inside every image that binds the folder."""
    dest = Path(dest)
    return dest.with_name(f"{dest.name}.download")


def fetch_into(dest: PathLike, request: Any, fill: Callable[[Path], None]) -> Path:
    """Make ``dest`` a finished fetch of ``request`` (any JSON value): ``fill(folder)``
    downloads and unpacks into :func:`staging_dir`, to which ``dest`` links only once
    ``fill`` returns.

    A transfer, unpack or conversion that fails leaves that folder as it is: the next
    launch continues its partial files (HTTP Range), skips the transfers and extractions
    its manifest and markers vouch for, and keeps an archive that did not unpack. A request
    that changed (a source edited in the config) is fetched the same way: only what it
    adds is transferred. A ``dest`` folder left by hand is taken into the staging folder,
    so its files count too.
    """
    dest = Path(dest)
    if already_complete(dest, request):
        log.info("%s is already complete", dest)
        return dest
    staging = staging_dir(dest)
    if dest.is_symlink():
        dest.unlink()
    elif dest.exists():
        if staging.exists():
            log.warning("%s is incomplete; continuing the download in %s", dest, staging)
            shutil.rmtree(dest)
        else:
            os.replace(dest, staging)
    if already_complete(staging, request):
        log.info("the download in %s is complete", staging)
    else:
        if staging.is_dir():
            held = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())
            log.info("continuing the download in %s (%.1f MB already there)", staging, held / 1e6)
        staging.mkdir(parents=True, exist_ok=True)
        fill(staging)
        mark_complete(staging, request)
    dest.symlink_to(staging.name, target_is_directory=True)
    return dest


def manifest(dest: PathLike) -> list[dict[str, Any]]:
    """The transfers recorded in ``dest``: ``[{"source", "files": [{"path", "size",
    "sha256"}], "fetched", ...}]``, paths relative to ``dest``."""
    path = Path(dest) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def describe(path: PathLike, root: PathLike, sha256: str | None = None) -> dict[str, Any]:
    """A manifest record of the file ``path``: its path under ``root``, size and sha256."""
    path = Path(path)
    return {
        "path": path.relative_to(root).as_posix(),
        "size": path.stat().st_size,
        "sha256": sha256 or file_checksum(path),
    }


def describe_all(paths: Iterable[PathLike], root: PathLike) -> list[dict[str, Any]]:
    """:func:`describe` of many files, hashed in parallel (hashlib releases the GIL)."""
    paths = sorted({Path(p) for p in paths})
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda p: describe(p, root), paths))


def _record(root: Path, source: dict[str, Any], files: list[dict[str, Any]], **extra: Any):
    entry = {"source": source, **extra, "files": files, "fetched": _now()}
    key = _canonical(source)
    entries = [e for e in manifest(root) if _canonical(e["source"]) != key]
    write_json([*entries, entry], root / MANIFEST)
    return entry


def _in_place(root: Path, record: dict[str, Any]) -> bool:
    if record.get("unpacked"):
        return True
    path = root / record["path"]
    return path.is_file() and path.stat().st_size == record["size"]


def _recorded(root: Path, source: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest entry of a finished transfer of ``source`` whose files are in place."""
    key = _canonical(source)
    for entry in manifest(root):
        if _canonical(entry["source"]) == key and all(_in_place(root, f) for f in entry["files"]):
            log.info("already fetched: %s", source)
            return entry
    return None


def _manifest_root(path: Path) -> Path | None:
    """The nearest folder above ``path`` that holds a manifest (a download's output)."""
    return next((root for root in path.absolute().parents if (root / MANIFEST).is_file()), None)


def _note_unpacked(archive: Path) -> None:
    """Note in the nearest manifest above ``archive`` that it was unpacked and deleted."""
    root = _manifest_root(archive)
    if root is None:
        return
    rel = archive.absolute().relative_to(root).as_posix()
    entries = manifest(root)
    hits = [f for e in entries for f in e["files"] if f["path"] == rel]
    for f in hits:
        f["unpacked"] = True
    if hits:
        write_json(entries, root / MANIFEST)


def _noted_unpacked(archive: Path) -> bool:
    root = _manifest_root(archive)
    if root is None:
        return False
    rel = archive.absolute().relative_to(root).as_posix()
    return any(f["path"] == rel and f.get("unpacked") for e in manifest(root) for f in e["files"])


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of the files under ``root`` (bookkeeping aside)."""
    found = {}
    for top, dirs, files in os.walk(root):
        if Path(top) == root:
            dirs[:] = [d for d in dirs if d not in _NOT_DOWNLOADED]
        for name in files:
            path = Path(top) / name
            st = path.stat()
            found[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return found


def _new_files(root: Path, before: dict[str, tuple[int, int]]) -> list[Path]:
    """The files under ``root`` that are new or changed since the listing ``before``."""
    return [root / rel for rel, sig in sorted(_listing(root).items()) if before.get(rel) != sig]


# --- transfers ------------------------------------------------------------------------


def url_filename(url: str) -> str:
    """The name a URL's file is saved under: its last path segment, without the query."""
    return url.rstrip("/").split("/")[-1].split("?")[0]


def transfer(url: str, target: Path) -> None:
    """Fetch ``url`` into ``target``, continuing a partial ``target`` (``curl -C -``)."""
    try:
        subprocess.run(
            ["curl", "-fL", "-C", "-", "--retry", "5", "-o", str(target), url], check=True
        )
    except FileNotFoundError as err:
        raise FetchError("curl is not installed; it comes with the data image") from err


def url_file(
    url: str, target: PathLike, sha256: str | None = None, *, root: PathLike | None = None
) -> Path:
    """``url`` saved as ``target``, recorded in ``root``'s manifest (``target``'s folder).

    The bytes arrive in ``<target>.part`` (continued if a killed run left one) and take the
    final name only once complete; a pinned ``sha256`` that does not match is an error and
    the download is discarded.
    """
    target = Path(target)
    root = Path(root) if root is not None else target.parent
    source = {"url": url, "path": target.relative_to(root).as_posix()}
    entry = _recorded(root, source)
    if entry is not None and (sha256 is None or entry["files"][0]["sha256"] == sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{target.name}.part")
    transfer(url, part)
    got = file_checksum(part)
    if sha256 is not None and got != sha256:
        part.unlink()
        raise ChecksumError(
            f"{target} (from {url}) has sha256 {got}, not the pinned {sha256}: discarded; "
            "the next launch downloads it again"
        )
    os.replace(part, target)
    _record(root, source, [describe(target, root, got)])
    return target


def _hf_token() -> str | None:
    return os.environ.get("HF_TOKEN")


def hub_file(
    repo: str, filename: str, revision: str, dest: PathLike, *, repo_type: str = "dataset"
) -> Path:
    """One file of a hub repo at ``revision``, kept at its repo path under ``dest``."""
    from huggingface_hub import hf_hub_download

    dest = Path(dest)
    source = {"hub": repo, "repo_type": repo_type, "revision": revision, "file": filename}
    if _recorded(dest, source) is not None:
        return dest / filename
    path = Path(
        hf_hub_download(
            repo_id=repo,
            repo_type=repo_type,
            filename=filename,
            revision=revision,
            local_dir=dest,
            token=_hf_token(),
        )
    )
    _record(dest, source, [describe(path, dest)])
    return path


def _permanent(err: OSError) -> bool:
    """A hub error that retrying cannot cure (no such repo/revision/file, gated)."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    return isinstance(err, EntryNotFoundError | RepositoryNotFoundError | RevisionNotFoundError)


def hub_snapshot(
    repo: str,
    revision: str,
    dest: PathLike,
    *,
    allow: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    repo_type: str = "dataset",
    attempts: int = 5,
    wait_s: float = 300.0,
) -> str:
    """The files of a hub repo matching ``allow``/``ignore`` at ``revision``; its commit.

    ``revision`` (a branch, tag or commit) is resolved to a commit first and the files are
    fetched at that commit, so the manifest lists exactly one version. Repos of many small
    files (MMSU, AIR-Bench) hit the hub's rate limits: a failed attempt is retried after
    ``wait_s`` (the hub client keeps what it already has), unless the repo, revision or
    file does not exist or is gated.
    """
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.utils import filter_repo_objects

    dest = Path(dest)
    allow, ignore = (list(allow) if allow else None), (list(ignore) if ignore else None)
    source = {"hub": repo, "repo_type": repo_type, "revision": revision}
    source |= {"allow": allow, "ignore": ignore}
    entry = _recorded(dest, source)
    if entry is not None:
        return entry["commit"]
    for attempt in range(1, attempts + 1):
        try:
            api = HfApi(token=_hf_token())
            info = api.repo_info(repo, repo_type=repo_type, revision=revision)
            if info.sha != revision:
                log.warning(
                    "%s: revision %r is not a commit, so another download may differ; this "
                    "one is commit %s: pin it in the configuration (revision: %s)",
                    repo, revision, info.sha, info.sha,
                )  # fmt: skip
            snapshot_download(
                repo_id=repo,
                repo_type=repo_type,
                revision=info.sha,
                allow_patterns=allow,
                ignore_patterns=ignore,
                local_dir=dest,
                token=_hf_token(),
            )
            break
        except OSError as err:  # requests and hub HTTP errors are OSErrors
            if attempt == attempts or _permanent(err):
                raise
            log.warning(
                "%s: attempt %d failed (%s); retrying in %.0f s", repo, attempt, err, wait_s
            )
            time.sleep(wait_s)
    names = filter_repo_objects(
        [s.rfilename for s in info.siblings or []], allow_patterns=allow, ignore_patterns=ignore
    )
    _record(dest, source, describe_all((dest / n for n in names), dest), commit=info.sha)
    log.info("%s@%s (%s): snapshot in %s", repo, revision, info.sha, dest)
    return info.sha


def _gdown(args: list[str], what: str) -> None:
    try:
        subprocess.run(["gdown", *args], check=True)
    except FileNotFoundError as err:
        raise FetchError("gdown is not installed; it comes with the data image") from err
    except subprocess.CalledProcessError as err:
        raise FetchError(
            f"gdown could not fetch {what}; Drive limits the downloads of popular files, "
            "so retry later"
        ) from err


def gdrive_file(file_id: str, target: PathLike) -> Path:
    """A Google Drive file saved as ``target``, fetched with gdown as the authors do."""
    target = Path(target)
    root = target.parent
    source = {"gdrive": file_id, "path": target.name}
    if _recorded(root, source) is not None:
        return target
    root.mkdir(parents=True, exist_ok=True)
    url = f"https://drive.google.com/file/d/{file_id}/view"
    _gdown(["--fuzzy", url, "-O", str(target)], url)
    _record(root, source, [describe(target, root)])
    return target


def gdrive(url: str, dest: PathLike) -> list[Path]:
    """A Google Drive file or folder link into ``dest``, under Drive's own names."""
    dest = Path(dest)
    source = {"gdrive": url}
    entry = _recorded(dest, source)
    if entry is not None:
        return [dest / f["path"] for f in entry["files"]]
    dest.mkdir(parents=True, exist_ok=True)
    before = _listing(dest)
    _gdown(["--folder" if "/folders/" in url else "--fuzzy", url, "-O", f"{dest}/"], url)
    files = _new_files(dest, before)
    _record(dest, source, describe_all(files, dest))
    return files


def kaggle_dataset(ref: str, dest: PathLike) -> list[Path]:
    """A Kaggle dataset (``owner/name``) into ``dest``, its zip unpacked and deleted (the
    layout of ``kaggle datasets download --unzip``, with the members checked)."""
    dest = Path(dest)
    source = {"kaggle": ref}
    entry = _recorded(dest, source)
    if entry is not None:
        files = [dest / f["path"] for f in entry["files"]]
    else:
        dest.mkdir(parents=True, exist_ok=True)
        before = _listing(dest)
        try:
            subprocess.run(["kaggle", "datasets", "download", "-p", str(dest), ref], check=True)
        except FileNotFoundError as err:
            raise FetchError("kaggle is not installed; it comes with the data image") from err
        files = _new_files(dest, before)
        _record(dest, source, describe_all(files, dest))
    for file in files:  # also after a run killed mid-extraction: its marker is missing
        if file.is_file() and archive_format(file) is not None:
            unpack(file, dest)
    return files


# --- archives -------------------------------------------------------------------------

_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"PK\x07\x08", "zip"),  # spanned-zip signature before the first entry
    (b"7z\xbc\xaf\x27\x1c", "7z"),
)
_COMPRESSED: tuple[tuple[bytes, str, Callable[[IO[bytes]], IO[bytes]]], ...] = (
    (b"\x1f\x8b", "gz", lambda f: gzip.GzipFile(fileobj=f)),
    (b"BZh", "bz2", lambda f: bz2.BZ2File(f)),
    (b"\xfd7zXZ\x00", "xz", lambda f: lzma.LZMAFile(f)),  # noqa: SIM115
)


class _Concatenation(io.RawIOBase):
    """The parts of a split archive read as one stream (``cat part_* | tar -x``)."""

    def __init__(self, parts: Sequence[Path]):
        self._parts = list(parts)
        self._file: IO[bytes] | None = None
        self._next()

    def _next(self) -> None:
        self._file = open(self._parts.pop(0), "rb") if self._parts else None  # noqa: SIM115

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._file is not None:
            n = self._file.readinto(buffer)
            if n:
                return n
            self._file.close()
            self._next()
        return 0

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()


def _parts(archive: PathLike | Sequence[PathLike]) -> list[Path]:
    if isinstance(archive, str | os.PathLike):
        return [Path(archive)]
    return [Path(p) for p in archive]


@contextlib.contextmanager
def _open(parts: list[Path]) -> Iterator[IO[bytes]]:
    stream = open(parts[0], "rb") if len(parts) == 1 else io.BufferedReader(_Concatenation(parts))  # noqa: SIM115
    with stream:
        yield stream


def _is_tar_start(block: bytes) -> bool:
    """Whether ``block`` (1024 bytes) starts a tar: a header with the ustar magic or (old
    tars) a valid checksum, or the two zero blocks that end an empty tar."""
    if len(block) < 512:
        return False
    if not any(block):
        return len(block) >= 1024
    if block[257:262] == b"ustar":
        return True
    try:
        stored = int(block[148:156].strip(b"\0 ").decode("ascii"), 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * ord(" ") + sum(block[156:512])


def archive_format(archive: PathLike | Sequence[PathLike]) -> str | None:
    """``"zip"``, ``"7z"``, ``"tar"``, ``"tar.gz"``, ``"tar.bz2"``, ``"tar.xz"`` or ``None``,
    judged by the content of ``archive`` (or of its parts, read one after the other).

    A compressed file counts as an archive only if it holds a tar: a lone ``.json.gz`` is
    not unpacked.
    """
    parts = _parts(archive)
    with _open(parts) as stream:
        head = stream.read(1024)
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    if _is_tar_start(head):
        return "tar"
    for magic, suffix, decompress in _COMPRESSED:
        if head.startswith(magic):
            try:
                with _open(parts) as stream, decompress(stream) as inner:
                    block = inner.read(1024)
            except (OSError, EOFError, lzma.LZMAError):
                return None
            return f"tar.{suffix}" if _is_tar_start(block) else None
    return None


def _member_path(archive: PathLike, name: str) -> PurePosixPath:
    """The relative path of member ``name``; an absolute path or a ``..`` is refused."""
    posix = name.replace("\\", "/")
    path = PurePosixPath(posix)
    drive = len(posix) >= 2 and posix[0].isalpha() and posix[1] == ":"
    if path.is_absolute() or drive:
        raise UnsafeArchiveError(archive, name, "has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchiveError(archive, name, "climbs out of the destination with '..'")
    return path


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _zip_is_link(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _extract_zip(archive: Path, dest: Path) -> None:
    root = os.path.realpath(dest)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        paths = [_member_path(archive, info.filename) for info in infos]  # all, before writing
        for info, rel in zip(infos, paths, strict=True):
            target = os.path.join(root, *rel.parts)
            if not _inside(root, os.path.realpath(target)):
                raise UnsafeArchiveError(
                    archive, info.filename, "would be written outside the destination via a link"
                )
            if not _zip_is_link(info):
                zf.extract(info, root)
                continue
            link = zf.read(info).decode("utf-8")
            if os.path.isabs(link) or not _inside(
                root, os.path.realpath(os.path.join(os.path.dirname(target), link))
            ):
                raise UnsafeArchiveError(
                    archive, info.filename, f"is a link out of the destination (to {link!r})"
                )
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.lexists(target):
                os.unlink(target)
            os.symlink(link, target)


def _extract_tar(parts: list[Path], dest: Path, label: str) -> None:
    def checked(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
        _member_path(label, member.name)  # the data filter would strip a leading "/"
        try:
            return tarfile.data_filter(member, path)
        except tarfile.FilterError as err:
            raise UnsafeArchiveError(label, member.name, f"is refused: {err}") from err

    with contextlib.ExitStack() as stack:
        if len(parts) == 1:
            tar = stack.enter_context(tarfile.open(parts[0]))
        else:
            stream = stack.enter_context(_open(parts))
            tar = stack.enter_context(tarfile.open(fileobj=stream, mode="r|*"))
        tar.copybufsize = 1 << 20
        tar.extractall(dest, filter=checked)


def _run_7z(args: list[str]) -> str:
    try:
        done = subprocess.run(["7z", *args], check=True, capture_output=True, text=True)
    except FileNotFoundError as err:
        raise FetchError("7z is not installed; it comes with the data image (p7zip)") from err
    return done.stdout


def _extract_7z(archive: Path, dest: Path) -> None:
    # The members as 7z lists them (-slt: "Path = ..." / "Attributes = A -rw-r--r--").
    listing = _run_7z(["l", "-slt", str(archive)]).split("\n----------\n", 1)[-1]
    for block in listing.split("\n\n"):
        fields = dict(line.split(" = ", 1) for line in block.splitlines() if " = " in line)
        if "Path" not in fields:
            continue
        _member_path(archive, fields["Path"])
        mode = fields.get("Attributes", "").split()
        if len(mode) > 1 and mode[1].startswith("l"):
            raise UnsafeArchiveError(archive, fields["Path"], "is a link (refused in 7z archives)")
    _run_7z(["x", str(archive), f"-o{dest}", "-y"])


def unpack(
    archive: PathLike | Sequence[PathLike],
    dest: PathLike,
    *,
    keep: bool = False,
    name: str | None = None,
    marker: bool = True,
) -> Path:
    """Extract ``archive`` into ``dest`` and, unless ``keep``, delete it (the corpora are
    large; the authors delete theirs too).

    ``archive`` may be the parts of a split archive (a list, read in order as one stream;
    ``name`` then names its marker). A marker ``<dest>/.<name>.unpacked`` written after a
    complete extraction makes a rerun a no-op; without it the extraction starts over while
    the archive is still there. ``marker=False`` leaves ``dest`` without it: the archive's
    deletion, which only follows a complete extraction and is noted in the download's
    manifest, is then the evidence. A member with an absolute path, a ``..`` or a link out
    of ``dest`` raises :class:`UnsafeArchiveError` naming the archive and the member.
    """
    parts = _parts(archive)
    if len(parts) > 1 and name is None:
        raise ValueError("a split archive needs a name for its marker")
    if keep and not marker:
        raise ValueError("a kept archive needs the marker to tell that it was unpacked")
    dest = Path(dest)
    label = name or parts[0].name
    done = dest / f".{label}.unpacked"
    if marker and done.exists():
        return dest
    if not keep and all(not p.exists() and _noted_unpacked(p) for p in parts):
        return dest
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing: run this dataset's download first")
    fmt = archive_format(parts)
    if fmt is None:
        raise ArchiveError(f"{label}: not a zip, 7z or (compressed) tar archive, by its content")
    if fmt in ("zip", "7z") and len(parts) > 1:
        raise ArchiveError(f"{label}: a split {fmt} archive must be joined first")
    dest.mkdir(parents=True, exist_ok=True)
    if fmt == "zip":
        _extract_zip(parts[0], dest)
    elif fmt == "7z":
        _extract_7z(parts[0], dest)
    else:
        _extract_tar(parts, dest, label)
    if marker:
        write_json({"archive": label, "format": fmt, "unpacked": _now()}, done)
    if not keep:
        for part in parts:
            part.unlink()
            _note_unpacked(part)
    log.info("unpacked %s (%s) into %s", label, fmt, dest)
    return dest
