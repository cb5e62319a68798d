"""grader.grading.distributed: `grade --dask` grades as `--jobs 1` does, byte for byte, on a
local cluster and on real `dask scheduler` and `dask worker` processes, also when a worker
is killed mid-run; and says clearly what is wrong with an address or the options.

The class here is a part of the demo class (all correct, partly right, the hostile one,
whose endless loop keeps its task busy for ten seconds: long enough to kill its worker
while it runs) on two of the specs (a numbers one, a code one)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from grader import api
from grader.authoring import spec
from grader.cli import main
from grader.core.errors import GraderError
from grader.grading import distributed
from tests.conftest import EXAMPLES, EXERCISES, ROOT, grader_command

pytest.importorskip("distributed")

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
SPECS = [EXERCISES / "ex01-linear-regression.yaml", EXERCISES / "ex08-architectures.yaml"]
STUDENTS = ["s100001", "s100002", "s100007"]
SLOW = "s100007"
"""The hostile student: ex08's endless loop runs into the sandbox's 10 s wall limit."""


def grade(out: Path, **options: Any) -> api.GradeRun:
    return api.grade_paths(SPECS, [EXAMPLES / s for s in STUDENTS], out, now=NOW, reports=False, **options)


def files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((out / "results").iterdir())}


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The class graded with --jobs 1: what every Dask run must write, byte for byte."""
    out = tmp_path_factory.mktemp("serial")
    grade(out)
    return files(out)


# ----------------------------------------------------------------------------- the course as bytes


def test_the_course_travels_with_its_names_order_and_digest(tmp_path: Path) -> None:
    course = api.load(SPECS)
    copy = spec.load_course(distributed.unpack_course(distributed.pack_course(course, SPECS), tmp_path))
    assert copy.digest == course.digest
    assert [e.id for e in copy.exercises] == [e.id for e in course.exercises]
    assert copy.solutions_root is not None and copy.solutions_root.is_relative_to(tmp_path)


def test_a_folder_of_specs_travels_as_one(tmp_path: Path) -> None:
    course = api.load([EXERCISES])
    copy = spec.load_course(distributed.unpack_course(distributed.pack_course(course, [EXERCISES]), tmp_path))
    assert copy.digest == course.digest and len(copy.exercises) == len(course.exercises)


def test_a_worker_sets_the_course_up_in_a_folder_of_its_own_and_removes_it() -> None:
    plugin = distributed.RunPlugin(distributed.pack_course(api.load(SPECS), SPECS), "settings")
    plugin.setup(worker=None)
    assert plugin.course is not None and plugin.course.digest == api.load(SPECS).digest and not plugin.problem
    assert plugin.folder is not None and plugin.folder.name.startswith(f"grader-course-{os.getpid()}-")
    plugin.teardown(worker=None)
    assert not plugin.folder.exists()


def test_a_worker_with_another_grader_version_refuses_the_run() -> None:
    plugin = distributed.RunPlugin(distributed.pack_course(api.load(SPECS), SPECS), "settings")
    plugin.version = "0.0.1"
    with pytest.raises(GraderError, match="install the same version on every worker"):
        plugin.setup(worker=None)
    assert plugin.course is None and "the client 0.0.1" in plugin.problem


# ----------------------------------------------------------------------------- addresses and options


@pytest.mark.parametrize("address, workers", [("local", len(os.sched_getaffinity(0))), ("local:3", 3)])
def test_local_addresses(address: str, workers: int) -> None:
    assert distributed.parse_address(address) == (None, workers)


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "localhost:8786", "10.0.0.5:8786"])
def test_a_scheduler_address_is_passed_on(address: str) -> None:
    assert distributed.parse_address(address) == (address, 0)


@pytest.mark.parametrize("args, message", [
    (["--dask", "local", "--jobs", "2"], "--dask and --jobs cannot be used together"),
    (["--jobs", "1", "--dask", "local:2"], "--dask and --jobs cannot be used together"),
    (["--dask", "local:0"], "at least one worker"),
    (["--dask", "local:many"], "write local, or local:N"),
])
def test_bad_dask_options_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = CliRunner().invoke(main, ["grade", str(SPECS[0]), str(EXAMPLES / "s100001"), "--out", str(tmp_path),
                                     *args])
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert not (tmp_path / "results").exists()


def test_the_api_refuses_dask_with_jobs(tmp_path: Path) -> None:
    with pytest.raises(GraderError, match="leave out --jobs") as refused:
        grade(tmp_path, jobs=2, dask="local:1")
    assert refused.value.exit_code == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow  # waits out the connection timeout
def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = subprocess.run([*grader_command(), "grade", str(SPECS[0]), str(EXAMPLES / "s100001"), "--out",
                           str(tmp_path), "--dask", address], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < distributed.CONNECT_TIMEOUT_S + 30
    errors = [line for line in done.stderr.splitlines() if "grading" not in line]
    assert len(errors) == 1 and f"--dask {address}: cannot reach a Dask scheduler there" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()


def test_without_dask_it_says_how_to_install_it(tmp_path: Path) -> None:
    hide = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None; "
            "from grader.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", hide, "grade", str(SPECS[0]), str(EXAMPLES / "s100001"),
                           "--out", str(tmp_path), "--dask", "local:1"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, done.stderr
    assert "pip install 'grader[dask]'" in done.stderr and "Traceback" not in done.stderr


# ----------------------------------------------------------------------------- a local cluster


@pytest.mark.slow  # starts two worker processes, each with its sandbox zygote
def test_a_local_cluster_writes_what_jobs_1_writes(tmp_path: Path, serial: dict[str, bytes]) -> None:
    seen: list[str] = []
    run = grade(tmp_path, dask="local:2", on_result=lambda result: seen.append(result.student))
    assert files(tmp_path) == serial
    assert sorted(seen) == STUDENTS and [r.student for r in run.results] == STUDENTS
    assert (tmp_path / "grades.csv").is_file()


# ----------------------------------------------------------------------------- a real scheduler and workers


class Cluster:
    """`dask scheduler` and two `dask worker` processes (a nanny each, one process of one
    thread) on 127.0.0.1, on free ports. The scheduler gives a task up after its second
    worker death (allowed-failures 1) and gives each worker one task at a time."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "scheduler.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
               "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
        dask = [str(Path(sys.executable).parent / "dask")]
        self.processes = [subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
             str(self.file)], cwd=folder, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        for number in range(2):
            work = folder / f"worker{number}"
            work.mkdir()
            self.processes.append(subprocess.Popen(
                [*dask, "worker", "--scheduler-file", str(self.file), "--host", "127.0.0.1", "--nworkers", "1",
                 "--nthreads", "1", "--no-dashboard", "--local-directory", str(work)], cwd=work, env=env,
                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.address = self._address()
        self.kills: list[int] = []
        self.zygotes: set[int] = set()

    def _address(self) -> str:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.file.is_file():
                try:
                    return str(json.loads(self.file.read_text())["address"])
                except (ValueError, KeyError):
                    pass
            time.sleep(0.1)
        raise AssertionError("the scheduler did not start")

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, timeout=60, set_as_default=False)

    def wait_for_workers(self) -> None:
        with self.client() as client:
            client.wait_for_workers(2, timeout=120)

    def kill_while_grading(self, key_part: str, times: int) -> threading.Thread:
        """Kill (SIGKILL) the worker process that is grading the task named with
        `key_part`, `times` times, each as soon as it is seen running there."""
        def killer() -> None:
            with self.client() as client:
                deadline = time.monotonic() + 300
                while len(self.kills) < times and time.monotonic() < deadline:
                    for pid, zygote, keys in client.run(_executing, on_error="ignore").values():
                        if any(key_part in key for key in keys) and pid not in self.kills:
                            os.kill(pid, signal.SIGKILL)
                            self.kills.append(pid)
                            self.zygotes |= {zygote} if zygote else set()
                            break
                    time.sleep(0.1)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        return thread

    def note_zygotes(self) -> None:
        """The sandbox zygote of each worker, to check afterwards that none outlives it."""
        with self.client() as client:
            self.zygotes |= {pid for pid in client.run(_zygote, on_error="ignore").values() if pid}

    def stop(self) -> None:
        for process in reversed(self.processes):
            with _gone():
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with _gone():
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def _gone() -> Any:
    import contextlib

    return contextlib.suppress(ProcessLookupError)


def _executing(dask_worker: Any) -> tuple[int, int | None, list[str]]:
    """On a worker: its process id, its zygote's, and the keys of the tasks it is running."""
    return os.getpid(), _zygote(), [str(task.key) for task in dask_worker.state.executing]


def _zygote() -> int | None:
    """On a worker: the pid of its sandbox zygote, if it started one."""
    from grader.sandbox import client

    zygote = client._zygote
    return zygote.pid if zygote is not None and zygote.owner == os.getpid() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    started = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        started.wait_for_workers()
        yield started
    finally:
        started.stop()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in started.zygotes) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in started.zygotes if _alive(pid)], "a worker's zygote outlived it"


@pytest.mark.slow  # a real scheduler and two workers, one of them killed mid-run
def test_a_worker_killed_mid_run_loses_nothing_and_grades_nothing_twice(
        tmp_path: Path, serial: dict[str, bytes], cluster: Cluster) -> None:
    killer = cluster.kill_while_grading(SLOW, times=1)
    seen: list[str] = []
    run = grade(tmp_path, dask=cluster.address, on_result=lambda result: seen.append(result.student))
    killer.join(timeout=60)
    cluster.note_zygotes()
    assert len(cluster.kills) == 1, "the worker grading the slow student was not killed while it ran"
    assert sorted(seen) == STUDENTS, "each submission is kept once"
    assert files(tmp_path) == serial
    assert not any(r.error for r in run.results)


@pytest.mark.slow  # the same cluster: the slow student's workers killed twice, which the scheduler gives up on
def test_a_submission_whose_workers_keep_dying_is_a_grader_fault(
        tmp_path: Path, serial: dict[str, bytes], cluster: Cluster) -> None:
    cluster.kills.clear()
    killer = cluster.kill_while_grading(SLOW, times=2)
    run = grade(tmp_path, dask=cluster.address)
    killer.join(timeout=60)
    assert len(cluster.kills) == 2
    written = files(tmp_path)
    assert sorted(written) == [f"{s}.json" for s in STUDENTS]
    for student in STUDENTS:
        if student != SLOW:
            assert written[f"{student}.json"] == serial[f"{student}.json"]
    lost = next(r for r in run.results if r.student == SLOW)
    assert lost.error.startswith("grader fault: every Dask worker that took it died"), lost.error
    assert lost.score == 0 and run.exit_code == 1
