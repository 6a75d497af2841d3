"""Tests for datasets/get_cifar10.py, the CIFAR-10 download script, offline.

Each test builds a tiny archive in the real layout (cifar-10-batches-py/ with
pickled batches of a few images) in a temporary folder and points the script
at it with a file:// URL and the archive's own MD5, so the whole path runs
(stream, checksum, unpack, check, rename) without the network. The loader in
cs231n_lib.data then reads the result, which checks that the two agree.
"""

import hashlib
import importlib.util
import io
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cs231n_lib.data import (
    CIFAR_META_FILE,
    CIFAR_TEST_FILE,
    CIFAR_TRAIN_FILES,
    load_cifar10,
)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "datasets" / "get_cifar10.py"
PER_BATCH = 4


def load_script():
    """Import datasets/get_cifar10.py (a script, not a package module) by path."""
    spec = importlib.util.spec_from_file_location("get_cifar10", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gc10 = load_script()


# ---------------------------------------------------------------- fake archives


def fake_batches(seed=0):
    """{file name: pickled bytes} for the seven files, and the training rows."""
    rng = np.random.default_rng(seed)
    files, train_rows = {}, []
    for name in (*CIFAR_TRAIN_FILES, CIFAR_TEST_FILE):
        rows = rng.integers(0, 256, size=(PER_BATCH, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=PER_BATCH)]
        files[name] = pickle.dumps({b"data": rows, b"labels": labels}, protocol=2)
        if name != CIFAR_TEST_FILE:
            train_rows.append(rows)
    files[CIFAR_META_FILE] = pickle.dumps({b"label_names": [b"c%d" % i for i in range(10)]}, protocol=2)
    return files, np.concatenate(train_rows)


def add_file(tar, name, content):
    info = tarfile.TarInfo(name)
    info.size = len(content)
    tar.addfile(info, io.BytesIO(content))


def make_archive(path, files, extra=()):
    """Write a .tar.gz holding cifar-10-batches-py/<name> for each file, then extra members."""
    with tarfile.open(path, "w:gz") as tar:
        folder = tarfile.TarInfo("cifar-10-batches-py")
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        tar.addfile(folder)
        for name, content in files.items():
            add_file(tar, f"cifar-10-batches-py/{name}", content)
        add_file(tar, "cifar-10-batches-py/readme.html", b"<html>fake</html>")
        for member in extra:
            member(tar)
    return path


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def archive(tmp_path):
    """(path of a good archive, its MD5, the training rows inside it)."""
    files, train_rows = fake_batches()
    (tmp_path / "server").mkdir()
    path = make_archive(tmp_path / "server" / "cifar-10-python.tar.gz", files)
    return path, md5(path), train_rows


def run(root, archive_path, checksum):
    return gc10.main(["--root", str(root), "--url", archive_path.as_uri(), "--md5", checksum])


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# ---------------------------------------------------------------- the happy path


def test_main_downloads_checks_and_unpacks(tmp_path, archive, capsys):
    path, checksum, train_rows = archive
    root = tmp_path / "data"
    assert run(root, path, checksum) == 0
    out, err = capsys.readouterr()
    assert "CIFAR-10 is ready in" in out
    assert "downloading cifar-10-python.tar.gz" in err and "(100%)" in err

    # Only the folder is left: the archive and the temporary files are gone.
    assert listing(root) == ["cifar-10-batches-py"]
    assert set(gc10.EXPECTED_FILES) <= set(listing(root / "cifar-10-batches-py"))
    X_train, y_train, X_test, y_test = load_cifar10(root / "cifar-10-batches-py")
    assert X_train.shape == (5 * PER_BATCH, 3, 32, 32) and X_test.shape == (PER_BATCH, 3, 32, 32)
    np.testing.assert_array_equal(X_train.reshape(len(X_train), -1), train_rows)


def test_rerun_is_a_no_op_without_network(tmp_path, archive, capsys):
    path, checksum, _ = archive
    root = tmp_path / "data"
    assert run(root, path, checksum) == 0
    before = {p.name: p.stat().st_mtime_ns for p in (root / "cifar-10-batches-py").iterdir()}
    capsys.readouterr()
    # A URL that cannot be fetched proves that nothing is downloaded.
    assert run(root, tmp_path / "no-such-archive.tar.gz", "0" * 32) == 0
    assert "already in" in capsys.readouterr().out
    after = {p.name: p.stat().st_mtime_ns for p in (root / "cifar-10-batches-py").iterdir()}
    assert after == before


def test_default_root_comes_from_cs231n_data(tmp_path, archive, monkeypatch):
    path, checksum, _ = archive
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "shared"))
    assert gc10.main(["--url", path.as_uri(), "--md5", checksum]) == 0
    assert gc10.is_complete(tmp_path / "shared" / "cifar-10-batches-py")


def test_default_root_is_the_datasets_folder(monkeypatch):
    monkeypatch.delenv("CS231N_DATA", raising=False)
    assert gc10.default_root() == ROOT / "datasets"


def test_leftovers_of_a_killed_run_are_removed(tmp_path, archive):
    path, checksum, _ = archive
    root = tmp_path / "data"
    root.mkdir()
    (root / "cifar-10-python.tar.gz.tmp-k1ll3d").write_bytes(b"partial")
    (root / "cifar-10-batches-py.tmp-k1ll3d").mkdir()
    (root / "cifar-10-batches-py.tmp-k1ll3d" / "data_batch_1").write_bytes(b"half")
    (root / "notes.txt").write_text("not ours")
    assert run(root, path, checksum) == 0
    assert listing(root) == ["cifar-10-batches-py", "notes.txt"]


def test_an_incomplete_folder_is_replaced(tmp_path, archive):
    path, checksum, _ = archive
    folder = tmp_path / "data" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    (folder / "data_batch_1").write_bytes(b"damaged")  # and the other files deleted
    assert run(tmp_path / "data", path, checksum) == 0
    assert listing(tmp_path / "data") == ["cifar-10-batches-py"]
    load_cifar10(folder)  # the damaged batch was replaced too


def test_an_archive_left_by_an_interrupted_run_is_reused(tmp_path, archive, capsys):
    path, checksum, _ = archive
    root = tmp_path / "data"
    root.mkdir()
    (root / "cifar-10-python.tar.gz").write_bytes(path.read_bytes())
    assert run(root, tmp_path / "unreachable.tar.gz", checksum) == 0
    assert "already downloaded" in capsys.readouterr().out
    assert listing(root) == ["cifar-10-batches-py"]


def test_a_bad_archive_left_behind_is_downloaded_again(tmp_path, archive, capsys):
    path, checksum, _ = archive
    root = tmp_path / "data"
    root.mkdir()
    (root / "cifar-10-python.tar.gz").write_bytes(path.read_bytes()[:100])
    assert run(root, path, checksum) == 0
    assert "downloading again" in capsys.readouterr().out
    assert listing(root) == ["cifar-10-batches-py"]


# ---------------------------------------------------------------- failures


def test_wrong_checksum_names_both_and_leaves_nothing(tmp_path, archive, capsys):
    path, checksum, _ = archive
    root = tmp_path / "data"
    wrong = "0123456789abcdef0123456789abcdef"
    assert run(root, path, wrong) == 1
    err = capsys.readouterr().err
    assert f"has MD5 {checksum}, expected {wrong}" in err
    assert "cifar-10-python.tar.gz" in err and "deleted" in err
    assert "Traceback" not in err
    assert listing(root) == []


def test_truncated_archive_fails_cleanly(tmp_path, archive, capsys):
    path, _, _ = archive
    truncated = tmp_path / "server" / "truncated.tar.gz"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    root = tmp_path / "data"
    # The truncated file's own MD5, so the failure comes from unpacking.
    assert run(root, truncated, md5(truncated)) == 1
    last_line = capsys.readouterr().err.splitlines()[-1]  # after the progress line
    assert last_line.startswith("error: ") and "is damaged and cannot be unpacked" in last_line
    assert listing(root) == []


def test_missing_expected_files_fail(tmp_path, capsys):
    files, _ = fake_batches()
    del files["data_batch_3"]
    (tmp_path / "server").mkdir()
    path = make_archive(tmp_path / "server" / "partial.tar.gz", files)
    assert run(tmp_path / "data", path, md5(path)) == 1
    assert "missing data_batch_3" in capsys.readouterr().err
    assert listing(tmp_path / "data") == []


def test_unreachable_url_fails_without_traceback(tmp_path, capsys):
    assert run(tmp_path / "data", tmp_path / "nothing-here.tar.gz", "0" * 32) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot fetch file://") and "Traceback" not in err
    assert listing(tmp_path / "data") == []


def symlink(tar):
    info = tarfile.TarInfo("cifar-10-batches-py/link")
    info.type = tarfile.SYMTYPE
    info.linkname = "../../evil"
    tar.addfile(info)


@pytest.mark.parametrize(
    "member, shown",
    [
        (lambda tar: add_file(tar, "../evil", b"owned"), "'../evil'"),
        (lambda tar: add_file(tar, "cifar-10-batches-py/../../evil", b"owned"), "../../evil'"),
        (lambda tar: add_file(tar, "/tmp/evil-absolute-cs231n", b"owned"), "'/tmp/evil-absolute-cs231n'"),
        (symlink, "'cifar-10-batches-py/link', which is a link"),
    ],
    ids=["parent", "nested-parent", "absolute", "symlink"],
)
def test_members_outside_the_folder_are_refused(tmp_path, member, shown, capsys):
    files, _ = fake_batches()
    server = tmp_path / "server"
    server.mkdir()
    path = make_archive(server / "evil.tar.gz", files, extra=[member])
    root = tmp_path / "a" / "data"
    assert run(root, path, md5(path)) == 1
    err = capsys.readouterr().err
    assert "refusing to unpack it" in err and shown in err
    assert listing(root) == []
    assert listing(tmp_path / "a") == ["data"]
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil-absolute-cs231n").exists()


def test_extract_refuses_traversal_when_called_directly(tmp_path):
    files, _ = fake_batches()
    path = make_archive(tmp_path / "evil.tar.gz", files,
                        extra=[lambda tar: add_file(tar, "../evil", b"owned")])
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(gc10.DownloadError, match="'../evil'"):
        gc10.extract(path, root)
    assert listing(root) == [] and not (tmp_path / "evil").exists()


# Python 3.12+ warns when extractall runs without a filter: that is the old
# Python this test imitates, where the script relies on its own checks.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_without_tarfile_filters_the_own_checks_still_protect(tmp_path, archive, monkeypatch):
    """Pythons before 3.10.12 / 3.11.4 have no tarfile.data_filter."""
    monkeypatch.delattr(gc10.tarfile, "data_filter", raising=False)
    path, checksum, _ = archive
    assert run(tmp_path / "good", path, checksum) == 0
    load_cifar10(tmp_path / "good" / "cifar-10-batches-py")

    files, _ = fake_batches()
    evil = make_archive(tmp_path / "evil.tar.gz", files, extra=[lambda tar: add_file(tar, "../evil", b"owned")])
    root = tmp_path / "a" / "data"
    assert run(root, evil, md5(evil)) == 1
    assert listing(root) == [] and not (tmp_path / "a" / "evil").exists()


def test_a_download_that_stops_early_is_an_error(tmp_path, monkeypatch):
    class ShortResponse(io.BytesIO):
        headers = {"Content-Length": "100"}

    monkeypatch.setattr(gc10.urllib.request, "urlopen", lambda url, timeout: ShortResponse(b"x" * 60))
    dest = tmp_path / "cifar-10-python.tar.gz"
    with pytest.raises(gc10.DownloadError, match="stopped after 60 of 100 bytes"):
        gc10.download("https://example.invalid/cifar.tar.gz", dest, "0" * 32)
    assert listing(tmp_path) == []


def test_download_and_verify_md5_directly(tmp_path, archive):
    path, checksum, _ = archive
    dest = tmp_path / "copy.tar.gz"
    assert gc10.download(path.as_uri(), dest, checksum.upper()) == dest
    assert dest.read_bytes() == path.read_bytes()
    gc10.verify_md5(dest, checksum)
    with pytest.raises(gc10.DownloadError, match=f"has MD5 {checksum}, expected {'f' * 32}"):
        gc10.verify_md5(dest, "f" * 32)


def test_script_exits_non_zero_with_one_line_error(tmp_path, archive):
    path, _, _ = archive
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path / "data"),
         "--url", path.as_uri(), "--md5", "0" * 32],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and "expected 000" in last_line
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- agreement


def test_published_url_and_checksum():
    # From https://www.cs.toronto.edu/~kriz/cifar.html
    assert gc10.URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert gc10.MD5 == "c58f30108f718f92721af3b95e74349a"


def test_script_checks_the_files_the_loader_reads():
    assert set(gc10.EXPECTED_FILES) == {*CIFAR_TRAIN_FILES, CIFAR_TEST_FILE, CIFAR_META_FILE}
