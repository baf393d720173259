"""Running the demo: prepare the folder, build the app, write the policy and keys, run the steps.

A demo folder is marked by ``.tutela-demo.json``. A folder with other content and no marker is
never touched; an existing complete demo is reused (``fresh=True`` rebuilds it); a demo whose
build was interrupted is rebuilt.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table as RichTable

from tutela.demo.app import UPLOADS_DIR, BuildResult, build_app, estimated_rows, utc_now
from tutela.demo.steps import APP_SYSTEM, STEPS, DemoContext, Step, step_title
from tutela.engine import Tutela
from tutela.errors import ConfigurationError, TutelaError
from tutela.policy import load_policy

MARKER = ".tutela-demo.json"
POLICY_FILE = "tutela.yaml"
APP_DB = "app.db"
KEYRING_FILE = "tutela.key"


@dataclass
class DemoResult:
    """How the demo went: where it is, whether it was reused, and the steps that failed."""

    dir: Path
    reused: bool
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def policy_text() -> str:
    """The demo application's policy (a complete, commented YAML file)."""
    return resources.files("tutela.demo").joinpath("policy.yaml").read_text(encoding="utf-8")


def read_marker(directory: Path) -> dict | None:
    """The demo marker of ``directory``, or None when it is not a demo folder."""
    try:
        return json.loads((directory / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"complete": False}


def prepare_dir(directory: Path, *, fresh: bool) -> bool:
    """Make ``directory`` ready; True when it holds a complete demo to reuse.

    Raises :class:`ConfigurationError` when the path is a file or a folder with foreign content.
    """
    if directory.exists() and not directory.is_dir():
        raise ConfigurationError(f"{directory} is a file, not a folder; choose another --dir")
    if not directory.exists():
        directory.mkdir(parents=True)
        return False
    marker = read_marker(directory)
    if marker is None:
        if any(directory.iterdir()):
            raise ConfigurationError(
                f"{directory} already holds files that are not a Tutela demo (no {MARKER}); nothing was "
                "changed. Choose another --dir or an empty folder")
        return False
    if marker.get("complete") and not fresh:
        return True
    # Our own demo, asked to be rebuilt or left half-built by an interrupted run: start again.
    shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return False


def _write_marker(directory: Path, **values) -> None:
    target = directory / MARKER
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(target)


def create_demo(directory: Path, *, size: int, seed: int, console: Console,
                now: datetime | None = None) -> BuildResult:
    """Build the app, write the policy, create the keyring and migrate the store in ``directory``."""
    from tutela.crypto.keyring import Keyring
    from tutela.store.database import make_engine

    anchor = now or utc_now()
    _write_marker(directory, complete=False, size=size, seed=seed, started=anchor.isoformat())
    engine = make_engine(f"sqlite:///{directory / APP_DB}")
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      console=console, transient=True) as progress:
            task = progress.add_task("Building the booking app", total=estimated_rows(size))

            def advance(table: str, rows: int) -> None:
                progress.update(task, advance=rows, description=f"Writing {table}")

            result = build_app(engine, size=size, seed=seed, now=anchor, files_dir=directory, progress=advance)
    finally:
        engine.dispose()
    (directory / POLICY_FILE).write_text(policy_text(), encoding="utf-8")
    Keyring.create(directory / KEYRING_FILE)
    with Tutela(load_policy(directory / POLICY_FILE), actor="demo") as tutela:
        tutela.migrate()
        tutela.audit.record("demo.built", actor="demo", size=size, seed=seed, rows=result.total_rows,
                            files=result.files)
    _write_marker(directory, complete=True, size=size, seed=seed, now=anchor.isoformat(),
                  rows=result.rows, files=result.files)
    return result


def run_demo(directory: str | Path, *, size: int = 10_000, seed: int = 1, serve: bool = False,
             fresh: bool = False, console: Console | None = None, steps: list[Step] | None = None) -> DemoResult:
    """Prepare the demo in ``directory`` and run every step; see the module docstring for reuse rules."""
    console = console or Console()
    directory = Path(directory).expanduser().absolute()
    reused = prepare_dir(directory, fresh=fresh)
    if reused:
        marker = read_marker(directory) or {}
        console.print(f"Reusing the demo in {escape(str(directory))} (built {marker.get('now', '?')} with "
                      f"{marker.get('size', '?')} end users, seed {marker.get('seed', '?')}); "
                      "pass --fresh to rebuild it from scratch.", highlight=False)
        if (marker.get("size"), marker.get("seed")) != (size, seed):
            console.print("  [yellow]--size and --seed apply to a new build only.[/yellow]")
            size, seed = int(marker.get("size", size)), int(marker.get("seed", seed))
        build = None
    else:
        console.print(f"Building the demo booking app in {escape(str(directory))} ({size} end users, "
                      f"seed {seed}) …", highlight=False)
        build = create_demo(directory, size=size, seed=seed, console=console)
    tutela = Tutela(load_policy(directory / POLICY_FILE), actor="demo")
    tutela.migrate()
    ctx = DemoContext(dir=directory, tutela=tutela, console=console, size=size, seed=seed, serve=serve,
                      build=build)
    result = DemoResult(dir=directory, reused=reused)
    try:
        print_overview(ctx)
        for step in steps if steps is not None else STEPS:
            _run_step(ctx, step, result)
    finally:
        tutela.close()
    if result.ok:
        policy = escape(str(directory / POLICY_FILE))
        console.print(f"\n[green]Demo complete.[/green] Policy: {policy} · try: tutela --policy {policy} check",
                      highlight=False)
    else:
        console.print(f"\n[red]{len(result.failures)} step(s) failed:[/red] {', '.join(result.failures)}")
    return result


def _run_step(ctx: DemoContext, step: Step, result: DemoResult) -> None:
    ctx.console.print(f"\n[bold]{step_title(step)}[/bold]", highlight=False)
    try:
        step(ctx)
    except TutelaError as exc:
        ctx.say(f"[red]failed:[/red] {escape(exc.message)}")
        result.failures.append(step.__name__)
    except Exception as exc:  # noqa: BLE001 - one broken step must not hide the others' results
        ctx.say(f"[red]failed unexpectedly:[/red] {type(exc).__name__}: {escape(str(exc))}")
        result.failures.append(step.__name__)


def table_overview(ctx: DemoContext) -> list[tuple[str, str, int, int, str]]:
    """Per declared table: (table, subject, rows now, personal fields, retention period)."""
    policy = ctx.tutela.policy
    metadata = ctx.tutela.schema(APP_SYSTEM, refresh=True)
    out = []
    with ctx.app_engine.connect() as conn:
        for name, table in policy.systems[APP_SYSTEM].tables.items():
            live = metadata.tables.get(name)
            rows = conn.execute(sa.select(sa.func.count()).select_from(live)).scalar_one() if live is not None else 0
            retention = table.retention.after.text if table.retention else ""
            out.append((name, table.subject or "", rows, len(table.fields), retention))
    return out


def print_overview(ctx: DemoContext) -> None:
    """The summary before the steps: tables, rows and personal fields the policy maps."""
    policy = ctx.tutela.policy
    overview = table_overview(ctx)
    grid = RichTable(title="The booking app and its data map", title_justify="left")
    for header, justify in (("table", "left"), ("subject", "left"), ("rows", "right"),
                            ("personal fields", "right"), ("kept", "left")):
        grid.add_column(header, justify=justify)
    for name, subject, rows, fields, retention in overview:
        grid.add_row(name, subject, f"{rows:,}", str(fields), retention)
    ctx.console.print(grid)
    files = sum(1 for p in (ctx.dir / UPLOADS_DIR).rglob("*") if p.is_file()) if (ctx.dir / UPLOADS_DIR).is_dir() else 0
    ctx.console.print(
        f"{len(overview)} tables, {sum(r[2] for r in overview):,} rows, {sum(r[3] for r in overview)} "
        f"personal fields, {files:,} uploaded files · {len(policy.subjects)} kinds of data subjects, "
        f"{len(policy.purposes)} purposes, {len(policy.recipients)} recipients", highlight=False)
