"""``python -m ram_env.data``: fetch, locate, verify or export the MNIST cache."""

from __future__ import annotations

import argparse
import sys

from ram_env.data import DataError, _read_cache, export_idx, fetch_mnist, mnist_cache_path


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ram_env.data", description="Fetch, locate or verify the MNIST cache."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="download and verify MNIST into the cache")
    fetch.add_argument(
        "--from",
        dest="source_dir",
        metavar="DIR",
        help="directory holding the four MNIST IDX files (.gz or raw)",
    )
    fetch.add_argument("--force", action="store_true", help="re-fetch even if the cache is valid")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    export = commands.add_parser("export", help="write the cache as four gzipped IDX files")
    export.add_argument("directory", metavar="DIR", help="where to write them")
    commands.add_parser("path", help="print the cache path")
    commands.add_parser("verify", help="check the cache against the expected hashes")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "path":
            print(mnist_cache_path())
        elif args.command == "verify":
            path = mnist_cache_path()
            _read_cache(path)
            print(f"OK: {path} matches the expected MNIST hashes")
        elif args.command == "export":
            paths = export_idx(args.directory)
            print(f"wrote {len(paths)} IDX files to {args.directory}")
        else:
            path = fetch_mnist(args.source_dir, force=args.force, progress=not args.quiet)
            print(f"MNIST is ready at {path}")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
