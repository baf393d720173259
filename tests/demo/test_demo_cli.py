"""`tutela demo` end to end through the CLI runner: build, reuse, rebuild, refuse foreign folders."""

from __future__ import annotations

import json
import re
import sqlite3
import stat

import pytest
from typer.testing import CliRunner

from tutela.cli.main import app
from tutela.demo.run import MARKER, run_demo
from tutela.demo.steps import STEPS, DemoContext
from tutela.errors import Conflict

runner = CliRunner()


def demo(*args: str):
    return runner.invoke(app, ["demo", "--no-serve", "--size", "300", *args])


def _count(directory, table: str) -> int:
    with sqlite3.connect(directory / "app.db") as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 - test constant


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli") / "demo"
    result = demo("--dir", str(directory))
    return directory, result


def test_demo_builds_everything_and_prints_the_summary(built):
    directory, result = built
    assert result.exit_code == 0, result.output
    for name in ("app.db", "tutela.yaml", "tutela.key", "tutela-store.db", "ropa.md", "ropa.html", MARKER):
        assert (directory / name).is_file(), name
    assert stat.S_IMODE((directory / "tutela.key").stat().st_mode) == 0o600
    assert _count(directory, "end_users") == 300
    assert any((directory / "uploads").rglob("*"))
    out = result.output
    assert "9 tables" in out and "personal fields" in out
    assert "0 errors, 0 warnings" in out
    assert "ropa.md" in out and "Art. 30" in (directory / "ropa.md").read_text(encoding="utf-8")
    assert re.search(r"[1-9][0-9,]* events? verified", out), "the demo's own build event at least"
    assert "Demo complete" in out
    assert json.loads((directory / MARKER).read_text())["complete"] is True
    # The DPO's queue is not empty: one request past its legal month, one near its SLA.
    with sqlite3.connect(directory / "tutela-store.db") as conn:
        open_requests = conn.execute("SELECT COUNT(*) FROM tutela_requests WHERE status NOT IN "
                                     "('completed', 'rejected')").fetchone()[0]
    assert open_requests == 2
    assert re.search(r"received 40 days ago \(legal due [0-9-]+, overdue\)", out)


def test_rerun_reuses_the_demo_and_loses_nothing(built):
    directory, _ = built
    key = (directory / "tutela.key").read_bytes()
    with sqlite3.connect(directory / "app.db") as conn:
        conn.execute("INSERT INTO tenants (slug, company_name, country, plan, created_at) "
                     "VALUES ('kept', 'Kept Ltd', 'IE', 'pro', '2026-01-01 00:00:00')")
    result = demo("--dir", str(directory), "--size", "50")
    assert result.exit_code == 0, result.output
    assert "Reusing the demo" in result.output and "--fresh" in result.output
    assert (directory / "tutela.key").read_bytes() == key
    assert _count(directory, "end_users") == 300
    assert "left open for the dashboard" not in result.output  # the open requests are not filed twice
    with sqlite3.connect(directory / "app.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM tenants WHERE slug = 'kept'").fetchone()[0] == 1


def test_fresh_rebuilds_the_demo(tmp_path):
    directory = tmp_path / "demo"
    assert demo("--dir", str(directory), "--size", "40").exit_code == 0
    key = (directory / "tutela.key").read_bytes()
    result = demo("--dir", str(directory), "--size", "60", "--fresh")
    assert result.exit_code == 0, result.output
    assert "Reusing" not in result.output
    assert _count(directory, "end_users") == 60
    assert (directory / "tutela.key").read_bytes() != key


def test_interrupted_build_is_rebuilt(tmp_path):
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / MARKER).write_text(json.dumps({"complete": False}))
    (directory / "app.db").write_bytes(b"half written")
    result = demo("--dir", str(directory), "--size", "30")
    assert result.exit_code == 0, result.output
    assert _count(directory, "end_users") == 30


@pytest.mark.parametrize("extra", [[], ["--fresh"]])
def test_a_folder_with_foreign_content_is_refused(tmp_path, extra):
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "thesis.txt").write_text("years of work")
    result = demo("--dir", str(directory), *extra)
    assert result.exit_code == 2
    assert "not a Tutela demo" in result.output and "nothing was changed" in result.output
    assert [p.name for p in directory.iterdir()] == ["thesis.txt"]
    assert (directory / "thesis.txt").read_text() == "years of work"


def test_a_file_as_dir_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = demo("--dir", str(target))
    assert result.exit_code == 2 and "is a file" in result.output
    assert target.read_text() == "x"


@pytest.mark.parametrize("size", ["0", "9", "-5", "many"])
def test_bad_size_is_bad_usage(tmp_path, size):
    result = runner.invoke(app, ["demo", "--no-serve", "--size", size, "--dir", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert not (tmp_path / "d").exists()


def test_help():
    result = runner.invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    for option in ("--dir", "--size", "--seed", "--no-serve", "--fresh"):
        assert option in result.output


def test_a_failing_step_is_reported_and_the_others_still_run(built, capsys):
    directory, _ = built
    ran = []

    def step_broken(ctx: DemoContext) -> None:
        """Broken step."""
        raise Conflict("this step cannot run now [bold]really[/bold]")

    def step_after(ctx: DemoContext) -> None:
        """Later step."""
        ran.append(ctx.size)
        ctx.say("still here")

    result = run_demo(directory, size=300, steps=[step_broken, step_after])
    assert result.failures == ["step_broken"] and not result.ok
    assert ran == [300]
    out = capsys.readouterr().out
    assert "this step cannot run now [bold]really[/bold]" in out, "messages are printed, not read as markup"
    assert "still here" in out and "1 step(s) failed" in out


def test_foundation_steps_are_in_order():
    names = [step.__name__ for step in STEPS]
    assert names[:2] == ["step_check", "step_ropa"]
    assert names.index("step_audit_verify") > names.index("step_ropa")


def test_pick_finds_a_row_by_columns_and_refuses_unknown_ones(built):
    directory, _ = built
    from rich.console import Console

    from tutela.demo.run import POLICY_FILE
    from tutela.engine import Tutela
    from tutela.errors import NotFound

    with Tutela.open(directory / POLICY_FILE) as tutela:
        ctx = DemoContext(dir=directory, tutela=tutela, console=Console(), size=300, seed=1)
        bounced = ctx.pick("newsletter_contacts", status="bounced")
        assert bounced is not None and bounced["status"] == "bounced"
        assert ctx.pick("newsletter_contacts", status="bounced")["id"] == bounced["id"]
        assert ctx.pick("end_users", id=-1) is None
        with pytest.raises(NotFound, match="no column"):
            ctx.pick("end_users", **{"email; DROP TABLE end_users": "x"})
        with pytest.raises(NotFound):
            ctx.pick("no_such_table")
    assert _count(directory, "end_users") == 300


def test_the_build_is_an_audit_event_without_personal_data(built):
    directory, _ = built
    from tutela.demo.run import POLICY_FILE
    from tutela.engine import Tutela

    with Tutela.open(directory / POLICY_FILE) as tutela:
        events = tutela.audit.query(action="demo.built")
    assert len(events) == 1
    event = events[0]
    assert event.actor == "demo" and event.subject is None
    assert event.details["size"] == 300 and event.details["rows"] > 300
    assert "@" not in json.dumps(dict(event.details))
