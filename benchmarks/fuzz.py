"""Coverage-guided fuzzing (atheris/libFuzzer) of every decoder, importer and the recorder's log.

Reproduce (from the repository root; one target at a time, prints a Markdown table)::

    nice -n 19 .venv/bin/python benchmarks/fuzz.py --target decoder.imugait_v1 --inputs 1000000
    nice -n 19 .venv/bin/python benchmarks/fuzz.py --target all --inputs 20000
    .venv/bin/python benchmarks/fuzz.py --list

Each target (``benchmarks/fuzz_targets.py``) runs in its own worker process: atheris
instruments ``imugait`` (line coverage and comparisons), libFuzzer mutates the corpus and
calls the target with each input. The corpus is the seeds (``benchmarks/fuzz_corpus/TARGET``,
read only: the repository is never written) plus the inputs earlier runs found to add coverage,
kept outside the repository in ``--corpus-dir`` (default ``~/.cache/imugait/fuzz-corpus``;
libFuzzer adds to and minimises that folder only), so a run resumes where the last one stopped;
``--corpus-dir ''`` starts from the seeds alone. A worker counts

* **crashes**: exceptions other than the target's expected ones (none for decoders; the
  project's own ``ImugaitError`` for importers and the log), and broken decoder invariants;
  each distinct signature is printed once and its first input saved in ``--artifacts``;
* **hangs**: inputs taking more CPU time than the target's limit (1 s for a decoder, 5 s for a
  file; CPU time, so that other work on the machine does not make an input look slow);
  libFuzzer's own ``-timeout`` (wall clock: 100× the limit, at least 300 s) ends a worker stuck
  on one input, which is then counted as a hang too — generous, because it is wall time: a worker
  starved of CPU on a loaded machine once tripped the former 20-s timeout on an input that takes
  3 ms; libFuzzer's ``-rss_limit_mb`` ends one that runs out of memory
  (counted as a crash);
* **peak memory**: the worker's peak resident set (MB; the interpreter with numpy, pandas and
  pyarrow loaded is ~150–200 MB of it); an input that raises the peak by more than
  ``MEMORY_JUMP_MB`` at once is saved in ``--artifacts`` (``memory-TARGET-…``, the largest jump
  so far each time), so that a peak can be traced to its input;
* **exec/s**: inputs per second of fuzzing, wall clock (imports and start-up excluded); on a
  shared machine this is the share the worker got, so **exec/CPU-s** (inputs per second of the
  worker's CPU time) is given too.

``--jobs J`` splits a target's inputs over J workers (seeds S, S+1, …) running at once; keep
``--jobs 1`` on a shared machine. Exit status 1 when any crash or hang was found.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "fuzz_corpus"
SAVED_CORPUS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "imugait" / "fuzz-corpus"
STATS_EVERY = 1000
MEMORY_JUMP_MB = 64


def _scratch_root() -> str | None:
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


# -- worker ----------------------------------------------------------------------------------

class _Worker:
    """The state of one fuzzing process; ``one_input`` is atheris's test function."""

    def __init__(self, target, run, check, inputs: int, max_seconds: float, stats_path: Path, artifacts: Path) -> None:
        self.target, self.run, self.check = target, run, check
        self.inputs, self.max_seconds, self.stats_path, self.artifacts = inputs, max_seconds, stats_path, artifacts
        self.count = self.hangs = self.crashes = 0
        self.signatures: dict[str, str] = {}
        self.slowest_s = 0.0
        self.largest_jump_mb = 0.0
        self.t_first: float | None = None
        self.cpu_first = 0.0

    def one_input(self, data: bytes) -> None:
        if self.t_first is None:
            self.t_first, self.cpu_first = time.perf_counter(), time.process_time()
        peak_before = _peak_rss_mb()
        t0 = time.process_time()  # CPU time: a loaded machine must not turn inputs into "hangs"
        crash = self.check(self.target.name, self.run, data)
        took = time.process_time() - t0
        jump = _peak_rss_mb() - peak_before
        if jump > max(MEMORY_JUMP_MB, self.largest_jump_mb):
            self._save("memory", f"memory {jump:.0f}", f"peak memory +{jump:.0f} MB in one input", data)
        self.largest_jump_mb = max(self.largest_jump_mb, jump)
        self.count += 1
        self.slowest_s = max(self.slowest_s, took)
        if crash is not None:
            self.crashes += 1
            self._save("crash", crash.key, str(crash), data)
        slow = took > self.target.time_limit_s
        if slow:
            self.hangs += 1
            self._save("slow", "slow input", f"slow input: {took:.2f} s CPU (limit {self.target.time_limit_s} s)", data)
        if self.count % STATS_EVERY == 0 or crash is not None or slow:
            self.write_stats()
        if self.count >= self.inputs or time.perf_counter() - self.t_first > self.max_seconds:
            self.write_stats(done=True)
            sys.stdout.flush()
            os._exit(0)  # libFuzzer would otherwise keep going until its own -runs count

    def _save(self, kind: str, key: str, detail: str, data: bytes) -> None:
        """The first input of each distinct crash (type and place) or of the first slow input."""
        if key in self.signatures:
            return
        path = self.artifacts / f"{kind}-{self.target.name}-{hashlib.sha1(data).hexdigest()[:12]}"
        path.write_bytes(data)
        self.signatures[key] = f"{detail} -> {path}"
        print(f"FUZZ {kind.upper()} {self.target.name}: {detail} -> {path}", flush=True)

    def write_stats(self, done: bool = False) -> None:
        elapsed = time.perf_counter() - (self.t_first or time.perf_counter())
        stats = {"inputs": self.count, "crashes": self.crashes, "hangs": self.hangs, "done": done,
                 "elapsed_s": elapsed, "cpu_s": time.process_time() - self.cpu_first if self.t_first else 0.0,
                 "slowest_s": self.slowest_s, "signatures": self.signatures,
                 "peak_rss_mb": _peak_rss_mb(), "largest_jump_mb": self.largest_jump_mb}
        tmp = self.stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        os.replace(tmp, self.stats_path)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_main(args: argparse.Namespace) -> None:
    import atheris

    with atheris.instrument_imports(include=["imugait"]):
        import fuzz_targets

        target = fuzz_targets.TARGETS[args.worker]
        scratch = Path(args.scratch) / "files"
        # libFuzzer writes new inputs into (and minimises) the first folder only: the saved corpus
        # when resuming, else a scratch folder; the seeds' folder comes second and is only read
        corpus = Path(args.corpus) if args.corpus else Path(args.scratch) / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        run = target.make(scratch)
        for seed in sorted((CORPUS / target.name).glob("seed-*")):
            fuzz_targets.check_one(target.name, run, seed.read_bytes())  # lazy imports, instrumented
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    w = _Worker(target, run, fuzz_targets.check_one, args.inputs, args.max_seconds, Path(args.stats), artifacts)
    hard_timeout_s = max(300, int(100 * target.time_limit_s))  # wall clock: only for a worker really stuck
    argv = [sys.argv[0], str(corpus), str(CORPUS / target.name), f"-seed={args.seed}", f"-max_len={target.max_len}",
            f"-timeout={hard_timeout_s}", f"-rss_limit_mb={args.rss_limit_mb}",
            f"-artifact_prefix={artifacts}/", "-print_final_stats=0", "-close_fd_mask=0"]
    atheris.Setup(argv, w.one_input)
    try:
        atheris.Fuzz()
    finally:
        w.write_stats()  # the parent removes the scratch folder, however the worker ended


# -- parent ----------------------------------------------------------------------------------

def run_target(name: str, inputs: int, jobs: int, seed: int, artifacts: Path, rss_limit_mb: int,
               max_seconds: float, saved_corpus: Path | None = None) -> dict:
    """Run ``jobs`` workers on one target; the summed counts and what ended each worker."""
    with tempfile.TemporaryDirectory(prefix="imugait-fuzz-", dir=_scratch_root()) as tmp:
        procs = []
        t0 = time.perf_counter()
        for j in range(jobs):
            n = inputs // jobs + (j < inputs % jobs)
            stats = Path(tmp) / f"{j}.json"
            (Path(tmp) / f"scratch-{j}").mkdir()
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--inputs", str(n),
                   "--seed", str(seed + j), "--stats", str(stats), "--artifacts", str(artifacts),
                   "--rss-limit-mb", str(rss_limit_mb), "--max-seconds", str(max_seconds),
                   "--scratch", str(Path(tmp) / f"scratch-{j}"),
                   "--corpus", str(saved_corpus / name) if saved_corpus else ""]
            procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True), stats))
        rows = []
        for proc, stats in procs:
            out, _ = proc.communicate()
            for line in out.splitlines():
                if line.startswith("FUZZ ") or "ERROR: libFuzzer" in line or "==ERROR" in line:
                    print(line, flush=True)
            got = json.loads(stats.read_text()) if stats.exists() else {}
            ended = "" if got.get("done") else _why_ended(out, proc.returncode)
            if ended:
                print(f"{name}: worker ended early ({ended}); its last lines:", *out.splitlines()[-25:], sep="\n")
            rows.append((got, ended))
        wall_s = time.perf_counter() - t0
    total = {k: sum(g.get(k, 0) for g, _ in rows) for k in ("inputs", "crashes", "hangs")}
    for _g, ended in rows:
        if ended == "hang":
            total["hangs"] += 1
        elif ended:
            total["crashes"] += 1
    if any(e == "out of memory" for _g, e in rows):
        for g, _e in rows:
            g["peak_rss_mb"] = max(g.get("peak_rss_mb", 0.0), float(rss_limit_mb))
    fuzz_s = max((g.get("elapsed_s", 0.0) for g, _ in rows), default=0.0)
    return {"target": name, **total, "peak_rss_mb": max((g.get("peak_rss_mb", 0.0) for g, _ in rows), default=0.0),
            "exec_per_s": total["inputs"] / fuzz_s if fuzz_s > 0 else 0.0, "wall_s": wall_s,
            "exec_per_cpu_s": total["inputs"] / cpu_s if (cpu_s := sum(g.get("cpu_s", 0.0) for g, _ in rows)) else 0.0,
            "slowest_s": max((g.get("slowest_s", 0.0) for g, _ in rows), default=0.0),
            "largest_jump_mb": max((g.get("largest_jump_mb", 0.0) for g, _ in rows), default=0.0),
            "ended": [e for _g, e in rows if e],
            "signatures": sorted({s for g, _ in rows for s in g.get("signatures", {}).values()})}


def _count(folder: Path) -> int:
    return sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0


def _why_ended(output: str, code: int | None) -> str:
    if "libFuzzer: timeout" in output:
        return "hang"
    if "out-of-memory" in output:
        return "out of memory"
    return f"worker ended early (exit {code})"


def _table(results: list[dict]) -> str:
    head = "| target | inputs run | crashes | hangs | peak memory MB | exec/s | exec/CPU-s | slowest input CPU s |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['target']} | {r['inputs']:,} | {r['crashes']} | {r['hangs']} | {r['peak_rss_mb']:.0f} | "
                     f"{r['exec_per_s']:,.0f} | {r['exec_per_cpu_s']:,.0f} | {r['slowest_s']:.3f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="all", help="a target name (see --list) or 'all'")
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs per target (default 100000)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes per target (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed (default 1)")
    parser.add_argument("--artifacts", default=str(Path(tempfile.gettempdir()) / "imugait-fuzz-artifacts"),
                        help="folder for crashing and slow inputs")
    parser.add_argument("--rss-limit-mb", type=int, default=3072, help="libFuzzer's memory limit per worker")
    parser.add_argument("--max-seconds", type=float, default=float("inf"),
                        help="stop a target's worker after this many seconds of fuzzing even if --inputs "
                             "is not reached (the table shows the inputs actually run)")
    parser.add_argument("--corpus-dir", default=str(SAVED_CORPUS),
                        help="keep the inputs found here (one folder per target) and resume from them; "
                             f"'' for the seeds alone (default {SAVED_CORPUS})")
    parser.add_argument("--json", help="also write the results as JSON here")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return 0
    sys.path.insert(0, str(HERE))
    from fuzz_targets import TARGETS

    if args.list:
        print("\n".join(TARGETS))
        return 0
    if args.inputs < 1 or args.jobs < 1:
        parser.error("--inputs and --jobs must be at least 1")
    names = list(TARGETS) if args.target == "all" else [args.target]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; known: {', '.join(TARGETS)}")
    artifacts = Path(args.artifacts)
    results = []
    for name in names:
        r = run_target(name, args.inputs, args.jobs, args.seed, artifacts, args.rss_limit_mb, args.max_seconds,
                       Path(args.corpus_dir) if args.corpus_dir else None)
        results.append(r)
        print(f"{name}: {r['inputs']:,} inputs, {r['crashes']} crash(es), {r['hangs']} hang(s), "
              f"{r['peak_rss_mb']:.0f} MB (largest rise in one input {r['largest_jump_mb']:.0f} MB), "
              f"{r['exec_per_s']:,.0f} exec/s, {r['wall_s']:.0f} s"
              + (f"; ended: {', '.join(r['ended'])}" if r["ended"] else "")
              + (f"; saved corpus {_count(Path(args.corpus_dir) / name)} inputs" if args.corpus_dir else ""), flush=True)
    budget = "" if args.max_seconds == float("inf") else f" or {args.max_seconds:g} s"
    print(f"\nFuzzing — {args.inputs:,} inputs{budget} per target, --jobs {args.jobs}, seed {args.seed}; "
          f"artifacts in {artifacts}\n")
    print(_table(results))
    for r in results:
        for s in r["signatures"]:
            print(f"- {r['target']}: {s}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 1 if any(r["crashes"] or r["hangs"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
