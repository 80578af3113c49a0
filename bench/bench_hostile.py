"""Hostile files against a real FitLab server (issue 20): memory, time to an answer, and a bystander's Train.

    python bench/bench_hostile.py [--report bench/REPORT-hostile.md] [--cases bomb,log,wide,deep]

One `streamlit run app.py` with 2 worker processes (FITLAB_WORKERS=2, its own run store) and headless
Chromium. For each case, one browser session (the "student") uploads the file: the ZIP bomb and the
two CSVs on the Train page's "Upload a CSV…", the long log on the Diagnose page. Meanwhile a second
session (the "bystander") presses Train on the default data. Measured:

- the web server's resident memory (its own process, workers excluded: /proc/PID/status VmRSS sampled
  every 20 ms) when idle before the case, its peak during the case, and after the student's tab is
  closed and Streamlit has dropped the session (the server's disconnectedSessionTTL, then a wait);
- the time from the upload to the page's answer (a message, a dataset caption, or a verdict);
- the bystander's time from pressing Train to its verdict, started together with the upload.

The CLI is timed on the same files: `python -m core diagnose --history LOG` and
`python -m core train --csv FILE --target ...` (wall time, peak RSS from getrusage of the child).

Files are made here, in a temporary folder: a 2 MB ZIP whose `mimetype` entry is 2 GiB of zeros
(named .csv), a 1.8M-row `epoch,loss,val_loss` log (35 MB), a CSV of 100,000 columns and 3 rows, and a
CSV of 10 million rows of `a,b` (40 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bench_hostile.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Server  # noqa: E402

SESSION_TTL_S = 60  # .streamlit/config.toml's disconnectedSessionTTL
SETTLE_S = SESSION_TTL_S + 30


# ------------------------------------------------------------------ the files


def zip_bomb(path: Path, gib: int = 2) -> Path:
    zeros = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("mimetype", "w", force_zip64=True) as entry,
    ):
        for _ in range(gib * 1024):
            entry.write(zeros)
    return path


def long_log(path: Path, rows: int = 1_800_000) -> Path:
    rng = np.random.default_rng(0)
    epoch = np.arange(rows)
    loss = 1.0 / np.sqrt(epoch + 1) + rng.normal(0, 0.01, rows)
    val = loss * 1.1 + 0.02 + rng.normal(0, 0.01, rows)
    table = np.column_stack([epoch, loss, val])
    with path.open("w") as handle:
        handle.write("epoch,loss,val_loss\n")
        np.savetxt(handle, table, fmt=["%d", "%.6f", "%.6f"], delimiter=",")
    return path


def wide_csv(path: Path, columns: int = 100_000, rows: int = 3) -> Path:
    rng = np.random.default_rng(0)
    with path.open("w") as handle:
        handle.write(",".join(f"c{i}" for i in range(columns - 1)) + ",label\n")
        for _ in range(rows):
            handle.write(",".join(f"{v:.3f}" for v in rng.normal(size=columns - 1)) + f",{rng.integers(2)}\n")
    return path


def deep_csv(path: Path, rows: int = 10_000_000) -> Path:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 10, rows)
    b = (a + rng.integers(0, 3, rows) > 5).astype(int)
    with path.open("w") as handle:
        handle.write("a,b\n")
        np.savetxt(handle, np.column_stack([a, b]), fmt="%d", delimiter=",")
    return path


# ------------------------------------------------------------------ measuring the server


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """The server's peak RSS from a thread sampling /proc every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def open_page(browser: object, url: str) -> tuple[object, Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1200})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(url)
    page.locator(".st-key-train button").wait_for(timeout=120_000)
    return context, page


def upload_csv(page: Page, path: Path) -> None:
    page.locator(".st-key-dataset_name").click()
    page.get_by_role("option", name="Upload a CSV…").click()
    page.locator(".st-key-csv input[type=file]").set_input_files(str(path))


def csv_answer(page: Page, name: str, path: Path) -> str:
    """The Train page's answer to an upload: the sidebar's refusal (bomb, wide), or the caption of the new
    dataset (deep: read from a sample)."""
    if name == "deep":
        answer = page.get_by_text(f"Dataset {path.name}", exact=False).first
    else:
        answer = page.locator('[data-testid="stSidebar"]').get_by_role("alert").first
    answer.wait_for(timeout=300_000)
    return answer.inner_text()[:300]


def upload_log(page: Page, path: Path) -> None:
    page.get_by_role("link", name="Diagnose a log").click()
    page.locator(".st-key-log_file input[type=file]").wait_for(state="attached", timeout=60_000)
    page.locator(".st-key-log_file input[type=file]").set_input_files(str(path))


def log_answer(page: Page) -> str:
    answer = page.locator(".st-key-verdict").or_(page.locator("[data-testid='stAlertContentError']"))
    answer.first.wait_for(timeout=300_000)
    return answer.first.inner_text()[:300]


def case(browser: object, server: Server, name: str, path: Path) -> dict[str, object]:
    pid = server.process.pid
    time.sleep(3)
    row: dict[str, object] = {"case": name, "file_mb": round(path.stat().st_size / 1e6, 1)}
    student_context, student = open_page(browser, server.url)
    by_context, by_page = open_page(browser, server.url)
    row["idle_mb"] = round(rss_mb(pid))
    sampler = Sampler(pid)
    times: dict[str, float] = {}
    started = time.perf_counter()
    if name == "log":
        upload_log(student, path)
    else:
        upload_csv(student, path)
    # The bystander presses Train right after the upload starts (Playwright's sync API is one thread: the
    # two pages are driven in turn, each wait polling its own page).
    by_started = time.perf_counter()
    by_page.locator(".st-key-train button").click()
    answer = log_answer(student) if name == "log" else csv_answer(student, name, path)
    row["answer_s"] = round(time.perf_counter() - started, 1)
    row["answer"] = " ".join(answer.split())
    expect(by_page.locator(".st-key-verdict")).to_contain_text("Verdict", timeout=300_000)
    times["bystander"] = time.perf_counter() - by_started
    row["peak_mb"] = round(sampler.stop())
    row["bystander_train_to_verdict_s"] = round(times["bystander"], 1)
    student_context.close()  # type: ignore[attr-defined]
    by_context.close()  # type: ignore[attr-defined]
    time.sleep(SETTLE_S)
    row["after_close_mb"] = round(rss_mb(pid))
    return row


def cli(args: list[str]) -> dict[str, object]:
    """One CLI command: wall time, exit code, its own peak RSS (os.wait4's rusage of that child), what it said."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    said = [line for line in stdout.splitlines() if line.startswith(("verdict", "note", "log"))][:2]
    if process.returncode:
        said = stderr.strip().splitlines()[-1:]
    return {
        "command": "python -m core " + " ".join(a if "/" not in a else Path(a).name for a in args),
        "seconds": round(seconds, 1),
        "exit": process.returncode,
        "peak_mb": round(usage.ru_maxrss / 1024),
        "said": " ".join(" ".join(said).split())[:240],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default=str(ROOT / "bench" / "REPORT-hostile.md"))
    parser.add_argument("--cases", default="bomb,log,wide,deep")
    args = parser.parse_args()
    wanted = args.cases.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        makers = {
            "bomb": lambda: zip_bomb(folder / "grades.csv"),
            "log": lambda: long_log(folder / "long_log.csv"),
            "wide": lambda: wide_csv(folder / "wide.csv"),
            "deep": lambda: deep_csv(folder / "deep.csv"),
        }
        files = {name: makers[name]() for name in wanted}
        for name, path in files.items():
            print(f"made {name}: {path.stat().st_size / 1e6:.1f} MB", flush=True)
        commands = []
        if "log" in files:
            commands.append(cli(["diagnose", "--history", str(files["log"])]))
        for name in ("wide", "deep", "bomb"):
            if name in files:
                target = {"wide": "label", "deep": "b", "bomb": "x"}[name]
                commands.append(cli(["train", "--csv", str(files[name]), "--target", target, "--epochs", "2"]))
        for command in commands:
            print(json.dumps(command), flush=True)
        data = folder / "server"
        data.mkdir()
        server = Server(data, env={"FITLAB_WORKERS": "2"})
        rows = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                warm_context, warm = open_page(browser, server.url)  # the first page load imports the pages
                warm_context.close()  # type: ignore[attr-defined]
                for name, path in files.items():
                    row = case(browser, server, name, path)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                browser.close()
        finally:
            server.stop()
    write_report(Path(args.report), rows, commands)
    return 0


def write_report(path: Path, rows: list[dict[str, object]], commands: list[dict[str, object]]) -> None:
    lines = [
        "# Hostile files against a real server (bench/bench_hostile.py)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on this machine ({os.cpu_count()} cores), one `streamlit run app.py` "
        "with 2 worker processes, headless Chromium. Memory is the web server's own process (VmRSS); "
        f"'after' is {SETTLE_S} s after both tabs closed (the session TTL is {SESSION_TTL_S} s). The bystander "
        "presses Train on the default data right after the student's upload starts.",
        "",
        "Targets (issue 20): the bomb refused with the server ≤ 50 MB above idle; the long log read and diagnosed "
        "in ≤ 10 s (page and CLI); the wide CSV answered in ≤ 10 s; after any of them the server within 150 MB "
        "of where it was.",
        "",
        "| case | file MB | idle MB | peak MB (− idle) | answer s | after close MB (− idle) | bystander Train → verdict s "
        "| answer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        idle, peak, after = (float(row[k]) for k in ("idle_mb", "peak_mb", "after_close_mb"))  # type: ignore[arg-type]
        lines.append(
            f"| {row['case']} | {row['file_mb']} | {idle:.0f} | {peak:.0f} (+{peak - idle:.0f}) | {row['answer_s']} | "
            f"{after:.0f} ({after - idle:+.0f}) | {row['bystander_train_to_verdict_s']} | "
            f"{str(row['answer']).replace('|', '/')} |"
        )
    lines += ["", "## The CLI on the same files", "", "| command | s | exit | peak MB | said |", "|---|---|---|---|---|"]
    for command in commands:
        lines.append(
            f"| `{command['command']}` | {command['seconds']} | {command['exit']} | {command['peak_mb']} | "
            f"{str(command['said']).replace('|', '/')} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
