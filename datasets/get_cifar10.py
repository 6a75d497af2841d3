"""Download CIFAR-10 (python version) into datasets/cifar-10-batches-py.

    python datasets/get_cifar10.py              # into datasets/ (or $CS231N_DATA)
    python datasets/get_cifar10.py --root DIR   # into DIR/cifar-10-batches-py

Needs internet once (about 163 MB); the notebooks run without it on the
digits data. Steps: stream the archive to a temporary file next to its final
place, printing progress; check its MD5 against the one published on the
dataset's page; unpack it into a temporary folder beside the destination,
refusing any member that would land outside it; check that every batch file
is there; then move the folder into place in one rename and delete the
archive. Safe to re-run: a complete folder means there is nothing to do, and
the leftovers of an interrupted run are removed.

Standard library only, so any Python 3.10+ can run it, with or without the
course's virtual environment. Expected failures (no network, a bad checksum,
a damaged archive) print one line starting with "error:" and exit with 1.
"""

import argparse
import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# The MD5 checksum published for cifar-10-python.tar.gz on the dataset's page,
# https://www.cs.toronto.edu/~kriz/cifar.html
MD5 = "c58f30108f718f92721af3b95e74349a"
ARCHIVE_NAME = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
# The files cs231n_lib.data reads (readme.html, also in the archive, is not needed).
EXPECTED_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                  "data_batch_5", "test_batch", "batches.meta")
DATA_ENV_VAR = "CS231N_DATA"
# Temporary names end in `.tmp-<random>`, which .gitignore ignores in datasets/.
ARCHIVE_TMP_PREFIX = ARCHIVE_NAME + ".tmp-"
FOLDER_TMP_PREFIX = FOLDER + ".tmp-"
CHUNK = 1 << 20


class DownloadError(Exception):
    """An expected failure: main prints its message, without a traceback."""


def is_complete(folder):
    """True if ``folder`` holds every file in EXPECTED_FILES."""
    folder = Path(folder)
    return all((folder / name).is_file() for name in EXPECTED_FILES)


def download(url, dest, expected_md5):
    """Fetch ``url`` into the file ``dest``, checked against ``expected_md5``.

    The bytes go to a temporary file in dest's folder, which is renamed to
    dest only once complete and verified; on any failure it is deleted and
    DownloadError is raised. Returns dest as a Path.
    """
    dest = Path(dest)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".tmp-", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(url, out)
        try:
            verify_md5(tmp, expected_md5, name=f"{dest.name} downloaded from {url}")
        except DownloadError as err:
            raise DownloadError(f"{err}; deleted it, run the command again to retry") from None
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)  # a no-op once renamed
    return dest


def _stream(url, out):
    """Copy the body at ``url`` into the open file ``out``, showing progress."""
    received = total = 0
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0)
            shown = None
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                shown = _progress(received, total, shown)
    except urllib.error.HTTPError as err:
        raise DownloadError(f"{url} answered {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise DownloadError(
            f"cannot fetch {url}: {err.reason}. Check the internet connection "
            f"(the notebooks run without CIFAR-10, on the digits data)"
        ) from err
    except (http.client.HTTPException, TimeoutError, ConnectionError) as err:
        raise DownloadError(f"the download from {url} broke off: {err!r}; run again") from err
    finally:
        if received:
            print(file=sys.stderr)  # end the progress line
    if total and received != total:
        raise DownloadError(
            f"the download from {url} stopped after {received} of {total} bytes; run again"
        )


def _progress(received, total, shown):
    """Rewrite one progress line on stderr when the shown figure changes."""
    mb = received / 1e6
    if total:
        figure = 100 * received // total
        text = f"downloading {ARCHIVE_NAME}: {mb:6.1f} of {total / 1e6:.1f} MB ({figure}%)"
    else:
        figure = int(mb)
        text = f"downloading {ARCHIVE_NAME}: {mb:6.1f} MB"
    if figure != shown:
        print("\r" + text, end="", file=sys.stderr, flush=True)
    return figure


def md5_of(path):
    """Hex MD5 digest of the file at ``path``."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path, expected, name=None):
    """Raise DownloadError, naming both digests, unless the file's MD5 is ``expected``.

    ``name`` describes the file in the message (default: its path).
    """
    actual, expected = md5_of(path), expected.lower()
    if actual != expected:
        raise DownloadError(
            f"{name or path} has MD5 {actual}, expected {expected}: "
            f"the file is damaged or incomplete"
        )


def extract(archive, root):
    """Unpack ``archive`` and move its cifar-10-batches-py folder into ``root``.

    Members are unpacked into a temporary folder inside root; only when every
    file in EXPECTED_FILES is there is the folder renamed to
    root/cifar-10-batches-py (an incomplete folder already there is replaced).
    An archive member with an absolute path, a '..' component, or that is not
    a plain file or folder (links, devices) is refused before anything is
    written. Raises DownloadError for a damaged or unexpected archive.
    Returns the path of the folder.
    """
    archive, root = Path(archive), Path(root)
    dest = root / FOLDER
    tmp = Path(tempfile.mkdtemp(prefix=FOLDER_TMP_PREFIX, dir=root))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                members = tar.getmembers()
                for member in members:
                    _refuse_unsafe(member, archive)
                if hasattr(tarfile, "data_filter"):  # 3.12+, and 3.8.17+/3.9.17+/3.10.12+/3.11.4+
                    tar.extractall(tmp, members=members, filter="data")
                else:  # every member was checked above
                    tar.extractall(tmp, members=members)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise DownloadError(
                f"{archive} is damaged and cannot be unpacked ({type(err).__name__}: {err})"
            ) from err
        unpacked = tmp / FOLDER
        missing = [name for name in EXPECTED_FILES if not (unpacked / name).is_file()]
        if missing:
            raise DownloadError(
                f"{archive} does not hold {FOLDER}/ with the CIFAR-10 batches: "
                f"missing {', '.join(missing)}"
            )
        if dest.exists():  # incomplete, or main would not have called us: set it aside
            os.replace(dest, tmp / "previous")
        os.replace(unpacked, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _refuse_unsafe(member, archive):
    """Raise DownloadError for a member that could write outside the target folder."""
    parts = member.name.replace("\\", "/").split("/")
    if member.name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise DownloadError(
            f"{archive} holds the member {member.name!r}, whose path leaves the target "
            f"folder; refusing to unpack it"
        )
    if not (member.isfile() or member.isdir()):
        raise DownloadError(
            f"{archive} holds {member.name!r}, which is a link or special file, "
            f"not a plain file; refusing to unpack it"
        )


def remove_leftovers(root):
    """Delete temporary files and folders that an interrupted run left in root."""
    for pattern in (ARCHIVE_TMP_PREFIX + "*", FOLDER_TMP_PREFIX + "*"):
        for path in Path(root).glob(pattern):
            print(f"removing {path}, left over from an interrupted run")
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def default_root():
    """$CS231N_DATA if set, else the folder this script is in (datasets/)."""
    data_dir = os.environ.get(DATA_ENV_VAR)
    return Path(data_dir).expanduser() if data_dir else Path(__file__).resolve().parent


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Download CIFAR-10 (python version, about 163 MB) into "
                    "ROOT/cifar-10-batches-py, where cs231n_lib.data reads it.",
    )
    parser.add_argument(
        "--root", type=Path, default=None,
        help=f"folder to put {FOLDER}/ in (default: ${DATA_ENV_VAR} if set, else datasets/)",
    )
    parser.add_argument("--url", default=URL, help="where to download the archive from (default: %(default)s)")
    parser.add_argument(
        "--md5", default=MD5,
        help="advanced, for tests and mirrors: the archive's expected MD5 (default: the published %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the download; returns the exit status (0 done or nothing to do, 1 failed)."""
    args = parse_args(argv)
    root = args.root if args.root is not None else default_root()
    dest = root / FOLDER
    if is_complete(dest):
        print(f"CIFAR-10 is already in {dest}: nothing to do")
        return 0
    try:
        root.mkdir(parents=True, exist_ok=True)
        remove_leftovers(root)
        archive = root / ARCHIVE_NAME
        if archive.is_file():  # a run that stopped between download and unpacking
            try:
                verify_md5(archive, args.md5)
                print(f"using {archive}, already downloaded")
            except DownloadError as err:
                print(f"{err}; deleting it and downloading again")
                archive.unlink()
        if not archive.is_file():
            print(f"downloading {args.url} into {root}")
            download(args.url, archive, args.md5)
        try:
            extract(archive, root)
        except DownloadError:
            archive.unlink(missing_ok=True)  # damaged: the next run downloads afresh
            raise
        archive.unlink()
    except DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # no space left, no permission to write in root...
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # temporary files were removed on the way out
        print("\ninterrupted; run the command again to start over", file=sys.stderr)
        return 130
    print(f"CIFAR-10 is ready in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
