"""The `hl-testkit` command line.

Each subcommand is one `_add_<name>(subparsers)` function that declares its
arguments and sets `run` to the function doing the work; add it to
`_SUBCOMMANDS` and `main` dispatches to it. `run` returns the exit status:
0 success, 1 failure at run time, 2 usage or input errors (as argparse does).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from hl_testkit import __version__
from hl_testkit.errors import HlTestkitError

_Subparsers = argparse._SubParsersAction  # the type add_subparsers() returns


def _add_serve(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the stand-in v4 sessions API on loopback",
        description=(
            "Serve the stand-in Humanloop v4 sessions API (create, get, list) until "
            "Ctrl-C or SIGTERM. Answers are deterministic: the same seed gives the "
            "same ids and timestamps on every run."
        ),
        epilog=(
            "example:\n"
            "  hl-testkit serve --port 8000 --seed-file seed.yaml\n"
            "  # in another shell:\n"
            '  curl -H "X-API-KEY: hl-standin-key" \\\n'
            '    "http://127.0.0.1:8000/v4/sessions?project_id=pr_demo&size=3"\n'
            "  HUMANLOOP_BASE_URL=http://127.0.0.1:8000/v4 HUMANLOOP_API_KEY=hl-standin-key pytest"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to bind, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="the X-API-KEY clients must send (default: the fixed, fake hl-standin-key)",
    )
    parser.add_argument(
        "--seed-file",
        default=None,
        metavar="PATH",
        help="JSON or YAML seed of projects and sessions (default: the built-in demo seed)",
    )
    parser.set_defaults(run=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    # Imported here so other subcommands do not pay for the server's modules.
    from hl_testkit.standin import STANDIN_API_KEY, StandinServer, load_seed

    try:
        seed = load_seed(args.seed_file) if args.seed_file else None
    except HlTestkitError as exc:
        print(f"hl-testkit serve: {exc}", file=sys.stderr)
        return 2
    api_key = args.api_key if args.api_key is not None else STANDIN_API_KEY
    if not api_key:
        print("hl-testkit serve: --api-key must not be empty", file=sys.stderr)
        return 2
    server = StandinServer(host=args.host, port=args.port, api_key=api_key, seed=seed)
    try:
        server.start()
    except OSError as exc:
        print(f"hl-testkit serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    # The handler only appends to a list: no lock it could deadlock on.
    signals: list[int] = []
    previous = _on_signals(signals.append)
    print(f"Stand-in Humanloop v4 sessions API listening on {server.base_url}", flush=True)
    print("Point a client at it with:", flush=True)
    # Only the built-in key is printed: a key given on the command line stays off screen.
    shown_key = api_key if api_key == STANDIN_API_KEY else "<the key given to --api-key>"
    print(f"  HUMANLOOP_BASE_URL={server.base_url} HUMANLOOP_API_KEY={shown_key}", flush=True)
    print("Stop with Ctrl-C.", flush=True)
    try:
        while not signals:
            time.sleep(0.1)
    except KeyboardInterrupt:  # when no handler could be installed
        pass
    finally:
        server.stop()
        _restore_signals(previous)
    print("Stand-in stopped.", flush=True)
    return 0


def _add_demo(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="record, replay, validate and scan a small suite on the embedded stand-in",
        description=(
            "Write a small test suite (create, get, list with paging, a 422) into a "
            "temporary directory, record it against the embedded stand-in server with "
            "scrubbing on, replay it with the network blocked, check every recorded body "
            "against its JSON Schema and scan the cassettes for secrets; print what each "
            "phase did and how long it took. Exit 0 when every phase held, 1 otherwise."
        ),
        epilog="example:\n  hl-testkit demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from hl_testkit.cli.demo import run_demo

    return run_demo(sys.stdout)


def _add_scan(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="scan cassettes for secrets (exit 1 on any finding)",
        description=(
            "Scan cassette files and directories for the values of the key variables set "
            "in the environment (HUMANLOOP_API_KEY, OPENAI_API_KEY, ...) in every form "
            "(raw, percent- and form-encoded, JSON- and \\u-escaped, HTML entities, hex, "
            "base64 and base64url, UTF-16, quoted-printable, gzip/deflate; layered up to 4 "
            "deep), and for key-shaped strings. Prints "
            "file:line and the kind of finding, never the secret. "
            "Exit 0 clean, 1 findings, 2 a path that cannot be read."
        ),
        epilog=(
            "examples:\n"
            "  hl-testkit scan                 # the cassettes/ directory\n"
            "  hl-testkit scan cassettes/tests/test_sessions\n"
            "  hl-testkit scan --secret-env MY_SERVICE_TOKEN cassettes"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    _add_format(parser)
    parser.add_argument(
        "--secret-env",
        action="append",
        default=[],
        metavar="NAME",
        help="another environment variable whose value is a secret (repeatable)",
    )
    parser.set_defaults(run=_run_scan)


def _run_scan(args: argparse.Namespace) -> int:
    import os

    from hl_testkit.secrets.scan import run_scan

    return run_scan(
        args.paths,
        os.environ,
        sys.stdout,
        sys.stderr,
        extra_env_names=args.secret_env,
        fmt=args.format,
        progress=_progress("scanning"),
    )


def _add_check(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate every body in cassettes against its JSON Schema (exit 1 on any invalid)",
        description=(
            "Validate every interaction of every cassette under the paths against the JSON "
            "Schema of its route (method, path, status). Prints a table (cassette, "
            "interactions, valid, invalid, unrouted) and the details of each failure. "
            "Exit 0 all valid, 1 any invalid body, 2 an unreadable path or corrupt cassette."
        ),
        epilog=(
            "examples:\n"
            "  hl-testkit check                       # the cassettes/ directory\n"
            "  hl-testkit check --format json cassettes > check.json\n"
            "  hl-testkit check --schema-dir my_schemas \\\n"
            "      --route 'GET /projects/{id} 200 project' cassettes"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    _add_format(parser)
    parser.add_argument(
        "--schema-dir", default=None, metavar="DIR", help="add or override schema files"
    )
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="'METHOD /path/{param} STATUS SCHEMA'",
        help="route another endpoint to a schema (repeatable)",
    )
    parser.add_argument(
        "--profile",
        choices=("default", "strict"),
        default="default",
        help="the schemas that fail: default (the API contract; strict rules listed as "
        "drift) or strict",
    )
    parser.set_defaults(run=_run_check)


def _run_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hl_testkit.contract.check import run_check
    from hl_testkit.contract.schemas import Route, SchemaSet

    try:
        schemas = SchemaSet.with_extra(
            Path(args.schema_dir) if args.schema_dir else None,
            [Route.parse(text) for text in args.route],
            profile=args.profile,
        )
    except HlTestkitError as exc:
        print(f"hl-testkit check: {exc}", file=sys.stderr)
        return 2
    paths = [Path(p) for p in (args.paths or ["cassettes"])]
    return run_check(
        paths, sys.stdout, args.format, schemas=schemas, progress=_progress("checking")
    )


def _add_ls(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ls",
        help="list cassettes: interactions, where and when recorded",
        description="List the cassettes under the paths (default: cassettes). Exit 0, or 2 "
        "for a path that does not exist or a corrupt cassette.",
        epilog="examples:\n  hl-testkit ls\n  hl-testkit ls --format json cassettes/tests",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    _add_format(parser)
    parser.set_defaults(run=_run_ls)


def _run_ls(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hl_testkit.cli.views import run_ls

    paths = [Path(p) for p in (args.paths or ["cassettes"])]
    return run_ls(paths, sys.stdout, sys.stderr, args.format)


def _add_show(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "show",
        help="show one cassette's interactions",
        description="Show every interaction of one cassette: method, path, status and any "
        "schema violations marked at record time. Exit 0, or 2 for a missing or corrupt file.",
        epilog="example:\n  hl-testkit show cassettes/tests/test_recorded_sessions/"
        "test_list_every_page.yaml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="CASSETTE")
    _add_format(parser)
    parser.set_defaults(run=_run_show)


def _run_show(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hl_testkit.cli.views import run_show

    return run_show(Path(args.path), sys.stdout, sys.stderr, args.format)


def _add_diff(subparsers: _Subparsers[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="what changed in meaning between two recordings (exit 1 on any difference)",
        description=(
            "Compare cassettes per interaction, paired by the request key replay uses: "
            "interactions added, removed or moved; status, kept headers and body changes by "
            "JSON path, old -> new; new schema violations and properties the schema does not "
            "name. Key order and formatting never count. OLD and NEW are two files or two "
            "directories (paired by relative path); --git REV compares the working tree's "
            "cassettes with those at REV. Ignored paths: --ignore and ini hl_diff_ignore. "
            "Exit 0 no semantic difference, 1 differences, 2 bad input."
        ),
        epilog=(
            "examples:\n"
            "  hl-testkit diff old/cassettes cassettes\n"
            "  hl-testkit diff --git HEAD                  # the cassettes/ directory\n"
            '  hl-testkit diff --git HEAD --format markdown >> "$GITHUB_STEP_SUMMARY"\n'
            "  hl-testkit diff --git main --ignore 'body.records[*].created_at' cassettes/tests"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="OLD NEW; with --git, the paths to compare"
    )
    parser.add_argument("--git", default=None, metavar="REV", help="compare with a git revision")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a path whose changes do not count: body.created_at, body.records[*].id, "
        "headers.X-Rate-Limit (repeatable)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text, json, or markdown for a CI job summary (default: %(default)s)",
    )
    parser.add_argument(
        "--schema-dir", default=None, metavar="DIR", help="add or override schema files"
    )
    parser.set_defaults(run=_run_diff)


def _run_diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hl_testkit.contract.schemas import SchemaSet
    from hl_testkit.drift.command import run_diff

    if args.git is None and len(args.paths) != 2:
        print(
            "hl-testkit diff: give OLD and NEW (two cassette files or two directories), "
            f"or --git REV [PATH...]; got {len(args.paths)} path(s)",
            file=sys.stderr,
        )
        return 2
    try:
        schemas = SchemaSet.with_extra(Path(args.schema_dir) if args.schema_dir else None, [])
    except HlTestkitError as exc:
        print(f"hl-testkit diff: {exc}", file=sys.stderr)
        return 2
    old, new = [*args.paths, None, None][:2] if args.git is None else (None, None)
    return run_diff(
        old=old,
        new=new,
        paths=args.paths if args.git is not None else [],
        git_rev=args.git,
        fmt=args.format,
        ignore=args.ignore,
        schemas=schemas,
        out=sys.stdout,
        err=sys.stderr,
    )


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people, json for CI tools (default: %(default)s)",
    )


def _progress(verb: str) -> Callable[[int, int, Any], None] | None:
    """`checking 12/240 cassettes/...` on stderr, only when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int, path: Any) -> None:
        end = "\n" if done + 1 == total else ""
        sys.stderr.write(f"\r\033[K{verb} {done + 1}/{total} {path}{end}")
        sys.stderr.flush()

    return show


_SUBCOMMANDS: tuple[Callable[[_Subparsers[argparse.ArgumentParser]], None], ...] = (
    _add_serve,
    _add_demo,
    _add_scan,
    _add_check,
    _add_ls,
    _add_show,
    _add_diff,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hl-testkit",
        description="Record, scrub, validate and replay Humanloop v4 sessions API traffic.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    return run(args)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {port}")
    return port


_Handler = Callable[[int, FrameType | None], Any] | int | None


def _on_signals(callback: Callable[[int], object]) -> dict[int, _Handler]:
    """Call `callback(signum)` on SIGINT and SIGTERM; returns the handlers replaced.

    Signal handlers can only be set from the main thread; elsewhere this does
    nothing and Ctrl-C arrives as KeyboardInterrupt.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        callback(signum)

    previous: dict[int, _Handler] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_signals(previous: dict[int, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


if __name__ == "__main__":
    raise SystemExit(main())
