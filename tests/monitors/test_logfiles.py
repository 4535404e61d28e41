"""LogFilesMonitor over real files written here, with real timestamps and rotation."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitors.base import MonitorError
from monitors.config import MonitorSettings
from monitors.log_format import format_logs
from monitors.log_times import epoch_time, text_time
from monitors.logfiles import LogFilesMonitor, parse_log_files
from monitors.registry import build_monitors

HOUR = timedelta(hours=1)
ROOT = Path(__file__).resolve().parents[2]


def now() -> datetime:
    return datetime.now().astimezone()


def monitor(files: dict[str, list[str]], **kwargs: int) -> LogFilesMonitor:
    return LogFilesMonitor(files, 3, **kwargs)


def write(path: Path, lines: list[str], mtime: datetime | None = None) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TestSettings:
    def test_parses_services_and_repeated_globs(self) -> None:
        assert parse_log_files(" api=/var/log/api/*.log, web=/var/log/nginx/error.log,api=/srv/a.log") == {
            "api": ["/var/log/api/*.log", "/srv/a.log"],
            "web": ["/var/log/nginx/error.log"],
        }

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            ("/var/log/x.log", "service=/path/glob"),
            ("api=", "service=/path/glob"),
            ("api=logs/x.log", "absolute"),
            ("a pi=/x.log", "service=/path/glob"),
        ],
    )
    def test_bad_value_names_the_setting(self, value: str, says: str) -> None:
        with pytest.raises(ValueError, match="log_files") as info:
            MonitorSettings(_env_file=None, log_files=value)  # type: ignore[call-arg]
        assert says in str(info.value)

    async def test_services_join_log_services(self, tmp_path: Path) -> None:
        """LOG_FILES services are offered with LOG_SERVICES, each once, in order."""
        settings = MonitorSettings(
            _env_file=None,
            log_services="api,worker",
            host_monitor="off",  # type: ignore[call-arg]
            log_files=f"web={tmp_path}/web.log,api={tmp_path}/api.log",
        )
        monitors = build_monitors(settings)
        assert monitors.log_services == ["api", "worker", "web"]
        assert monitors.names == ["logfiles"]
        await monitors.aclose()


class TestWindow:
    async def test_counts_errors_in_the_window_newest_first(self, tmp_path: Path) -> None:
        """Errors older than the window are left out; lines come newest first, cut to the limit."""
        t = now()
        write(
            tmp_path / "api.log",
            [
                f"{iso(t - timedelta(hours=3))} ERROR too old",
                f"{iso(t - timedelta(minutes=50))} ERROR payment timeout",
                f"{iso(t - timedelta(minutes=40))} INFO all good",
                f"{iso(t - timedelta(minutes=30))} WARN Exception in handler",
                f"{iso(t - timedelta(minutes=5))} FATAL out of memory",
            ],
        )
        result = await monitor({"api": [str(tmp_path / "*.log")]}).errors("api", HOUR, 2)
        assert result.error_count == 3
        assert [line.message for line in result.lines] == ["FATAL out of memory", "WARN Exception in handler"]
        assert abs(result.lines[0].ts - (t - timedelta(minutes=5))) < timedelta(seconds=1)
        text = format_logs(result, t)
        assert text.startswith("api, last 1h: 3 errors.")
        assert "FATAL out of memory" in text

    async def test_stack_frames_belong_to_the_line_above(self, tmp_path: Path) -> None:
        """An untimed line (a traceback) takes the time of the timed line above it."""
        t = now()
        write(
            tmp_path / "w.log",
            [
                f"{iso(t - timedelta(hours=2))} ERROR old failure",
                "  ValueError: from the old failure",
                f"{iso(t - timedelta(minutes=3))} ERROR request failed",
                "Traceback (most recent call last):",
                "KeyError: 'user'",
            ],
        )
        result = await monitor({"w": [str(tmp_path / "w.log")]}).errors("w", HOUR, 10)
        assert result.error_count == 2
        assert {line.message for line in result.lines} == {"ERROR request failed", "KeyError: 'user'"}
        assert len({line.ts for line in result.lines}) == 1

    async def test_no_errors(self, tmp_path: Path) -> None:
        write(tmp_path / "a.log", [f"{iso(now())} INFO fine"])
        result = await monitor({"a": [str(tmp_path / "a.log")]}).errors("a", HOUR, 5)
        assert format_logs(result, now()) == "a, last 1h: no errors."

    async def test_custom_error_pattern(self, tmp_path: Path) -> None:
        write(tmp_path / "a.log", [f"{iso(now())} E0042 disk gone", f"{iso(now())} ERROR not this one"])
        result = await monitor(
            {"a": [str(tmp_path / "a.log")]},
        ).errors("a", HOUR, 5)
        assert result.error_count == 1
        custom = LogFilesMonitor({"a": [str(tmp_path / "a.log")]}, 3, error_pattern=r"\bE\d{4}\b")
        result = await custom.errors("a", HOUR, 5)
        assert [line.message for line in result.lines] == ["E0042 disk gone"]


def _formats(t: datetime) -> list[tuple[str, str]]:
    """(id, line) for one error at time t in every supported format, t in local time."""
    utc = t.astimezone(UTC)
    return [
        ("iso-z", f"{iso(t)} ERROR boom"),
        (
            "iso-offset",
            f"{t.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}{t.strftime('%z')[:3]}:{t.strftime('%z')[3:]} [error] boom",
        ),
        ("iso-naive-local", f"{t.strftime('%Y-%m-%d %H:%M:%S,%f')[:-3]} ERROR boom"),
        ("syslog", f"{t.strftime('%b')} {t.day:2d} {t.strftime('%H:%M:%S')} host app[12]: error: boom"),
        ("nginx-error", f"{t.strftime('%Y/%m/%d %H:%M:%S')} [error] 12#12: *3 boom"),
        ("apache-access", f'127.0.0.1 - - [{utc.strftime("%d/%b/%Y:%H:%M:%S")} +0000] "GET /boom" 500 error'),
        ("apache-error", f"[{t.strftime('%a %b %d %H:%M:%S')}.123456 {t.year}] [core:error] [pid 1] boom"),
        ("json-time", json.dumps({"time": iso(t), "level": "error", "msg": "boom"})),
        ("json-ts-seconds", json.dumps({"ts": t.timestamp(), "level": "ERROR", "msg": "boom"})),
        ("json-ts-millis", json.dumps({"timestamp": int(t.timestamp() * 1000), "level": 50, "message": "boom"})),
        ("json-no-level", json.dumps({"@timestamp": iso(t), "message": "panic: boom"})),
    ]


class TestFormats:
    @pytest.mark.parametrize("kind", [k for k, _ in _formats(datetime.now().astimezone())])
    async def test_line_time_decides_the_window(self, tmp_path: Path, kind: str) -> None:
        """Each format: an error 10 min ago is in the last hour, one 3 h ago is not, and its time is read."""
        t = now().replace(microsecond=0)
        recent = dict(_formats(t - timedelta(minutes=10)))[kind]
        old = dict(_formats(t - timedelta(hours=3)))[kind]
        write(tmp_path / "f.log", [old, recent])
        result = await monitor({"f": [str(tmp_path / "f.log")]}).errors("f", HOUR, 5)
        assert result.error_count == 1, (kind, recent)
        assert abs(result.lines[0].ts - (t - timedelta(minutes=10))) < timedelta(seconds=1)
        assert "boom" in result.lines[0].message

    async def test_json_level_decides_over_words(self, tmp_path: Path) -> None:
        """A JSON line with level info is not an error even when its text says "error"."""
        t = iso(now())
        write(
            tmp_path / "j.log",
            [
                json.dumps({"time": t, "level": "info", "msg": "retrying after error"}),
                json.dumps({"time": t, "level": "error", "msg": "gave up"}),
            ],
        )
        result = await monitor({"j": [str(tmp_path / "j.log")]}).errors("j", HOUR, 5)
        assert [line.message for line in result.lines] == ["gave up"]

    def test_syslog_in_january_reads_december_as_last_year(self) -> None:
        jan = datetime(2027, 1, 2, 10, 0).astimezone()
        found = text_time("Dec 31 23:59:00 host cron: error", jan)
        assert found is not None and found[0].year == 2026

    def test_not_a_time(self) -> None:
        assert text_time("Feb 30 10:00:00 nonsense", now()) is None
        assert text_time("    at com.example.Main(Main.java:12)", now()) is None

    @pytest.mark.parametrize("scale", [1, 1e3, 1e6, 1e9])
    def test_epoch_units(self, scale: float) -> None:
        assert epoch_time(1_790_000_000 * scale) == datetime.fromtimestamp(1_790_000_000, UTC)


class TestRotation:
    async def test_rotated_file_within_the_window_is_read(self, tmp_path: Path) -> None:
        """api.log.1 (rotated 20 min ago) holds the window's older errors; api.log.2 is not read."""
        t = now()
        write(tmp_path / "api.log.2", [f"{iso(t - timedelta(minutes=55))} ERROR in .2"], t - timedelta(minutes=50))
        write(
            tmp_path / "api.log.1",
            [
                f"{iso(t - timedelta(hours=2))} ERROR before the window",
                f"{iso(t - timedelta(minutes=45))} ERROR rotated away",
            ],
            t - timedelta(minutes=20),
        )
        write(tmp_path / "api.log", [f"{iso(t - timedelta(minutes=10))} ERROR current"])
        result = await monitor({"api": [str(tmp_path / "api.log")]}).errors("api", HOUR, 10)
        assert [line.message for line in result.lines] == ["ERROR current", "ERROR rotated away"]

    async def test_rotated_file_older_than_the_window_is_not_opened(self, tmp_path: Path) -> None:
        """A rotated file last written before the window opened is skipped by its mtime alone."""
        t = now()
        # Its lines claim to be recent: had it been read, they would count.
        write(tmp_path / "api.log.1", [f"{iso(t - timedelta(minutes=5))} ERROR in stale file"], t - timedelta(hours=5))
        write(tmp_path / "api.log", [f"{iso(t - timedelta(minutes=10))} ERROR current"])
        result = await monitor({"api": [str(tmp_path / "api.log")]}).errors("api", HOUR, 10)
        assert [line.message for line in result.lines] == ["ERROR current"]

    async def test_glob_matching_rotated_files_counts_each_once(self, tmp_path: Path) -> None:
        t = now()
        write(tmp_path / "a.log.1", [f"{iso(t - timedelta(minutes=30))} ERROR one"], t - timedelta(minutes=29))
        write(tmp_path / "a.log", [f"{iso(t - timedelta(minutes=10))} ERROR two"])
        result = await monitor({"a": [str(tmp_path / "a.log*")]}).errors("a", HOUR, 10)
        assert result.error_count == 2


class TestBound:
    async def test_never_reads_past_the_byte_bound(self, tmp_path: Path) -> None:
        """A window full of errors, bigger than the bound: the answer is a lower bound, said as such."""
        t = now()
        line = f"{iso(t - timedelta(minutes=1))} ERROR the same failure again and again"
        write(tmp_path / "big.log", [line] * 20_000)
        bound = 64 * 1024
        result = await monitor({"b": [str(tmp_path / "big.log")]}, max_bytes=bound).errors("b", HOUR, 5)
        assert result.partial
        assert 0 < result.error_count <= bound // (len(line) + 1)
        assert format_logs(result, t).startswith(f"b, last 1h: at least {result.error_count} errors.")

    async def test_stops_at_the_window_start_not_the_bound(self, tmp_path: Path) -> None:
        """Old lines above the window are not read: a file far bigger than the bound is answered whole."""
        t = now()
        old = f"{iso(t - timedelta(days=2))} ERROR ancient history " + "x" * 60
        write(tmp_path / "long.log", [old] * 50_000 + [f"{iso(t - timedelta(minutes=2))} ERROR fresh"])
        assert (tmp_path / "long.log").stat().st_size > 4 * 64 * 1024
        result = await monitor({"l": [str(tmp_path / "long.log")]}, max_bytes=64 * 1024).errors("l", HOUR, 5)
        assert not result.partial
        assert result.error_count == 1


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user may enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="optest-logs-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


class TestBadInput:
    async def test_glob_matching_nothing_is_one_line(self, tmp_path: Path) -> None:
        files = {"api": [str(tmp_path / "nothing-*.log")]}
        with pytest.raises(MonitorError) as info:
            await monitor(files).errors("api", HOUR, 5)
        assert info.value.reason == f"no file matches {tmp_path}/nothing-*.log"
        health = await monitor(files).health_check()
        assert not health.ok and health.reason == f"api: no file matches {tmp_path}/nothing-*.log"
        with pytest.raises(MonitorError, match=re.escape(f"api: no file matches {tmp_path}/nothing-*.log")):
            await monitor(files).problems()

    async def test_one_service_unreadable_is_its_warning_not_the_source_down(self, tmp_path: Path) -> None:
        """worker's file is missing: the source stays up (web still answers logs) and status warns."""
        write(tmp_path / "web.log", [f"{iso(now())} ERROR payment timeout"])
        files = {"web": [str(tmp_path / "web.log")], "worker": [str(tmp_path / "worker.log")]}
        health = await monitor(files).health_check()
        assert health.ok and health.reason == "1 file, 1 unreadable"
        problems = await monitor(files).problems()
        assert [(p.severity, p.text) for p in problems] == [
            ("warn", f"logs worker: no file matches {tmp_path}/worker.log")
        ]
        assert (await monitor(files).errors("web", HOUR, 5)).error_count == 1

    async def test_directory_and_fifo_are_refused_without_blocking(self, tmp_path: Path) -> None:
        (tmp_path / "dir.log").mkdir()
        os.mkfifo(tmp_path / "pipe.log")  # opening it would block forever
        for name, why in (("dir.log", "a directory"), ("pipe.log", "not a regular file")):
            with pytest.raises(MonitorError, match=re.escape(f"cannot read {tmp_path / name} ({why})")):
                await monitor({"x": [str(tmp_path / name)]}).errors("x", HOUR, 5)

    def test_unreadable_file_is_one_line(self, shared_dir: Path) -> None:
        """A file the service's user may not read: 'permission denied', named, no traceback."""
        path = write(shared_dir / "secret.log", [f"{iso(now())} ERROR hidden"])
        path.chmod(0o600)
        script = (
            "import asyncio, datetime, sys; from monitors.logfiles import LogFilesMonitor as M\n"
            f"m = M({{'s': [{str(path)!r}]}}, 3)\n"
            "print(asyncio.run(m.health_check()).reason)\n"
            "try: asyncio.run(m.errors('s', datetime.timedelta(hours=1), 5))\n"
            "except Exception as e: print(type(e).__name__, e)\n"
        )
        command = [sys.executable, "-c", script]
        if os.geteuid() == 0:
            # Root reads anything through CAP_DAC_OVERRIDE/READ_SEARCH: give the file to nobody and
            # ask as root without those two capabilities. (Becoming nobody instead would also lose
            # the checkout and its venv when they sit in a private directory, as CI's clone may.)
            if shutil.which("setpriv") is None:
                pytest.skip("setpriv is needed to drop root's capabilities")
            os.chown(path, 65534, 65534)
            drop = "-dac_override,-dac_read_search"
            command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *command]
        out = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
        assert out.stdout.splitlines() == [
            f"s: cannot read {path} (permission denied)",
            f"MonitorError cannot read {path} (permission denied)",
        ], out.stderr
        assert out.stderr == ""

    async def test_unknown_service(self, tmp_path: Path) -> None:
        with pytest.raises(MonitorError, match="unknown service; known: api"):
            await monitor({"api": [str(tmp_path / "a.log")]}).errors("db", HOUR, 5)

    async def test_health_counts_files(self, tmp_path: Path) -> None:
        write(tmp_path / "a.log", ["x"])
        write(tmp_path / "a.log.1", ["x"])
        write(tmp_path / "b.log", ["x"])
        health = await monitor({"a": [str(tmp_path / "a.log")], "b": [str(tmp_path / "b.log")]}).health_check()
        assert health.ok and health.reason == "3 files"
