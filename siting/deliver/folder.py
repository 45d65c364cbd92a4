"""The output folder: refuse what is not ours, one writer at a time, and a swap no failure can lose.

* **Ours only.** A folder siting writes holds :data:`MARKER` (the run id and every file written).
  ``overwrite`` replaces an existing folder only when it holds the marker and nothing that the
  marker does not list; a folder with anything else (a scenario, ``thesis.docx``) is refused, naming
  the files.
* **One writer.** :func:`output_lock` takes a lock file ``.st-lock-<hash of the name>`` beside the
  folder (the pid, start time and folder inside); a second run on the same folder fails at once
  naming the first. A lock whose process is gone is taken over.
* **No window.** The new folder is built beside the old one under a short temporary name, then the
  two are exchanged atomically (Linux ``renameat2(RENAME_EXCHANGE)``). Where that is not available the
  old folder is renamed aside first and put back if the second rename fails; a run killed between the
  two renames leaves it aside, and the next run on the folder puts it back before anything else.
* **Links.** A symlinked output folder is written through: the link is kept, its target replaced.
* **Clear failures.** A full disk, a read-only or missing parent, a name too long or holding a newline
  end in an :class:`~siting.core.errors.OutputError` naming the path and the cause.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with output_lock(root / "out"):
...     [p.name.startswith(".st-lock-") for p in root.iterdir()]
[True]
>>> (root / "out").mkdir(); (root / "out" / "thesis.docx").write_text("mine")
4
>>> check_output_dir(root / "out", overwrite=True)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
siting.core.errors.OutputExistsError: output folder ... was not written by siting (...) (thesis.docx); ...

Building a folder the way :func:`siting.deliver.outputs.save_result` does:

>>> tmp = new_folder(root / "out")
>>> _ = (tmp / "sites.csv").write_text("site_id")
>>> write_marker(tmp, "run-1")
>>> (root / "out" / "thesis.docx").unlink(); (root / "out").rmdir()
>>> replace_folder(tmp, root / "out")
>>> sorted(p.name for p in (root / "out").iterdir())
['.siting-output.json', 'sites.csv']
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from siting.core.errors import OutputError, OutputExistsError

__all__ = ["MARKER", "check_output_dir", "describe_os_error", "new_folder", "output_lock", "replace_folder",
           "write_marker"]

#: The file that marks a folder as written by siting (run id, time, and every file written).
MARKER = ".siting-output.json"
_HINTS = {errno.ENOSPC: "the disk is full: free some space or choose a folder on another disk",
          errno.EDQUOT: "the disk quota is used up: free some space or choose another folder",
          errno.EROFS: "the file system is read-only: choose a writable folder",
          errno.EACCES: "permission denied: choose a folder you can write to",
          errno.EPERM: "permission denied: choose a folder you can write to",
          errno.ENAMETOOLONG: "the name is too long for the file system: choose a shorter folder name",
          errno.ENOENT: "a folder on the way does not exist"}


def _real(out: Path) -> Path:
    """The folder to write: a symlink's target (the link is kept), else the path itself, absolute."""
    out = Path(os.path.abspath(out))
    return Path(os.path.realpath(out)) if out.is_symlink() else out


def _tag(out: Path) -> str:
    return hashlib.sha1(out.name.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_os_error(exc: OSError, path: Path) -> OutputError:
    """An :class:`OutputError` naming the path and the cause of an operating-system error.

    Examples
    --------
    >>> import errno
    >>> str(describe_os_error(OSError(errno.ENOSPC, "No space left on device"), Path("/data/out")))
    'cannot write the output folder /data/out: No space left on device; the disk is full: free some space ...'
    """
    where = exc.filename or path
    hint = _HINTS.get(exc.errno or 0, "check the folder and try again")
    return OutputError(f"cannot write the output folder {path}: {exc.strerror or exc} "
                       f"{'(' + str(where) + ') ' if str(where) != str(path) else ''}; {hint}".replace(" ;", ";"))


def _recover(out: Path) -> None:
    """Put back a folder that an interrupted swap left aside; remove temporaries of dead runs."""
    for p in out.parent.glob(f".st-*-{_tag(out)}"):
        kind, pid = p.name.split("-")[1:3]
        if not pid.isdigit() or (_pid_alive(int(pid)) and int(pid) != os.getpid()):
            continue
        if kind == "old" and not out.exists():
            os.replace(p, out)  # the earlier outputs, as they were
        else:
            shutil.rmtree(p, ignore_errors=True)


def _written_by_siting(out: Path) -> tuple[bool, list[str]]:
    """(has the marker, the files the marker does not list)."""
    present = sorted(p.name for p in out.iterdir())
    marker = out / MARKER
    if not marker.is_file():
        return False, present
    try:
        listed = set(json.loads(marker.read_text(encoding="utf-8")).get("files", []))
    except (ValueError, OSError):
        return False, present
    return True, [n for n in present if n not in listed and n != MARKER]


def check_output_dir(out_dir, *, overwrite: bool = False, inputs: Iterable = ()) -> Path:
    """The folder to write (a symlink's target); refuse what must not be replaced.

    Refused: a path with a NUL, newline or other control character; a file; a folder holding one of
    the run's ``inputs``; an existing non-empty folder without ``overwrite``; with ``overwrite``, a
    folder siting did not write or holding files it did not write.

    Raises
    ------
    OutputExistsError, OutputError
    """
    text = os.fspath(out_dir)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise OutputError(f"output path {text!r} contains a control character (newline, tab or NUL); "
                          "choose a plain name")
    try:
        return _check(_real(Path(text)), overwrite, inputs)
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise describe_os_error(exc, Path(text)) from None


def _check(out: Path, overwrite: bool, inputs: Iterable) -> Path:
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"output {out} exists and is a file; give a folder")
    for p in inputs:
        p = Path(p).resolve()
        if p == out or out in p.parents:
            raise OutputError(f"output folder {out} holds the input {p}; choose another output folder")
    if out.parent.is_dir():
        _recover(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise OutputExistsError(f"output folder {out} exists and is not empty; use --overwrite "
                                    "(overwrite=True) to replace it")
        ours, others = _written_by_siting(out)
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
            why = "holds files siting did not write" if ours else f"was not written by siting (no {MARKER})"
            raise OutputExistsError(f"output folder {out} {why} ({shown}); --overwrite only replaces a "
                                    "folder siting wrote: choose another folder or move those files")
    return out


@contextlib.contextmanager
def output_lock(out_dir) -> Iterator[Path]:
    """Hold the output folder's lock for this process (re-entrant); see the module docstring.

    Raises
    ------
    OutputError
        When another live process holds it: its pid and start time are named.
    """
    out = _real(Path(out_dir))
    lock = out.parent / f".st-lock-{_tag(out)}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        mine = _take(lock, out.name)
    except OSError as exc:
        raise describe_os_error(exc, out) from None
    try:
        yield out
    finally:
        if mine:
            with contextlib.suppress(OSError):
                lock.unlink()


def _take(lock: Path, folder_name: str) -> bool:
    """Create the lock (True), find it ours already (False), or raise naming its live holder."""
    note = json.dumps({"pid": os.getpid(), "started": datetime.now(UTC).isoformat(timespec="seconds"),
                       "folder": str(lock.parent / folder_name)})
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(lock.read_text(encoding="utf-8"))
            except (ValueError, OSError):
                held = {}
            pid = int(held.get("pid", 0) or 0)
            if pid == os.getpid():
                return False
            if pid and _pid_alive(pid):
                raise OutputError(f"output folder {held.get('folder', lock.parent)} is being "
                                  f"written by another run (pid {pid}, started {held.get('started', '?')}); wait "
                                  f"for it, or remove {lock} if that process is gone") from None
            lock.unlink(missing_ok=True)  # a lock left by a run that died
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(note)
        return True
    raise OutputError(f"could not take the lock {lock}; remove it if no run is writing there")


def new_folder(out: Path) -> Path:
    """An empty folder beside ``out`` under a short name (long output names still fit), mode 0777 - umask."""
    tmp = Path(tempfile.mkdtemp(prefix=f".st-tmp-{os.getpid()}-", suffix=f"-{_tag(out)}", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; give the folder the usual permissions
    return tmp


def write_marker(folder: Path, run_id: str) -> None:
    """Write :data:`MARKER` listing every file now in ``folder`` (call it last)."""
    files = sorted(p.name for p in folder.iterdir())
    (folder / MARKER).write_text(json.dumps({"run_id": run_id, "files": files,
                                             "written": datetime.now(UTC).isoformat(timespec="seconds")}),
                                 encoding="utf-8")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_folder(tmp: Path, out: Path) -> None:
    """Put the finished ``tmp`` in the place of ``out`` so that any single failure keeps one of them whole."""
    if not out.exists():
        os.replace(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the earlier outputs
        return
    old = out.parent / f".st-old-{os.getpid()}-{_tag(out)}"
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)  # the earlier outputs go back; a kill here is undone by the next run
        raise
    shutil.rmtree(old, ignore_errors=True)
