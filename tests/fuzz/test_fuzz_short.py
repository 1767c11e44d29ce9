"""A short, deterministic fuzz run of every target of ``benchmarks/fuzz.py``.

Each target's seed (``benchmarks/fuzz_corpus``) is mutated by hypothesis (derandomized, so
every run sees the same inputs): bytes flipped, overwritten, inserted, deleted, ranges repeated,
the input cut short. Decoders must return normally with their invariants kept; importers and the
log reader must accept or refuse with the project's own errors. The long coverage-guided runs
(≥ 10⁶ inputs per decoder) are in ``benchmarks/fuzz.py`` and ``docs/reliability.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from fuzz_targets import TARGETS, check_one  # noqa: E402

SEEDS = {name: [p.read_bytes() for p in sorted((ROOT / "benchmarks" / "fuzz_corpus" / name).glob("seed-*"))]
         for name in TARGETS}
EXAMPLES = {"decoder": 400, "import": 150, "log": 150}


def _mutate(data: bytes, ops: list[tuple[int, int, int, bytes]]) -> bytes:
    """Apply each (op, position, length, bytes): 0 flip a bit, 1 overwrite, 2 insert, 3 delete,
    4 repeat a range, 5 cut the end."""
    buf = bytearray(data)
    for op, pos, length, blob in ops:
        at = pos % (len(buf) + 1)
        if op == 0 and buf:
            buf[at % len(buf)] ^= 1 << (length % 8)
        elif op == 1:
            buf[at:at + len(blob)] = blob
        elif op == 2:
            buf[at:at] = blob
        elif op == 3:
            del buf[at:at + length]
        elif op == 4:
            buf[at:at] = buf[at:at + length] * 2
        elif op == 5:
            del buf[at:]
    return bytes(buf)


mutations = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1 << 20), st.integers(0, 64),
                               st.binary(min_size=1, max_size=8)), min_size=1, max_size=6)


def test_every_target_has_a_seed_it_accepts(tmp_path):
    for name, seeds in SEEDS.items():
        assert seeds, f"no seed for {name}: run benchmarks/fuzz_seeds.py"
        run = TARGETS[name].make(tmp_path / name)
        for data in seeds:
            assert check_one(name, run, data, must_accept=True) is None, name


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_short_fuzz_run(name, tmp_path_factory):
    run = TARGETS[name].make(tmp_path_factory.mktemp(name.replace(".", "_")))
    seeds = SEEDS[name]

    @given(k=st.integers(0, len(seeds) - 1), ops=mutations)
    @settings(max_examples=EXAMPLES[name.split(".")[0]], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def one(k, ops):
        crash = check_one(name, run, _mutate(seeds[k], ops))
        assert crash is None, f"{name}: {crash}"

    one()
