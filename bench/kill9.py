"""kill -9 during token writes, 1,000 times: zero corrupt reads, zero lost refresh tokens.

``.venv/bin/python bench/kill9.py [--rounds 1000] [--seed 1]``. Not run by the tests (the
integration suite runs the same farm 200 times).

A single-threaded farm process forks a writer that keeps rotating a refresh token in a
``FileCache`` (under the key's lock: read ``rt-N``, store ``rt-N+1``, report ``N+1``),
SIGKILLs it after a random 1-30 ms, and reads the cache back. It counts reads that are
not a whole token (corrupt) and tokens older than the last write the writer reported
complete (a lost refresh token: with rotating refresh tokens, that login is gone).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FARM = ROOT / "tests" / "integration" / "_cache_procs.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "cache"
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(FARM), "kill9", str(folder), str(args.rounds), str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ),
        ).stdout
        elapsed = time.perf_counter() - started
    result = json.loads(out.strip().splitlines()[-1])
    print(f"kill -9 rounds:                      {result['rounds']}")
    print(f"writes the writers reported done:    {result['writes']}")
    print("writes that landed before the kill")
    print(f"  but were not yet reported:         {result['inflight_landed']}")
    print(f"kills that left a half-written temp: {result['temp_files']}")
    print(f"corrupt reads:                       {result['corrupt_reads']}  (target 0)")
    print(f"lost refresh tokens:                 {result['lost']}  (target 0)")
    print(f"files moved aside as corrupt:        {len(result['corrupt_files'])}  (target 0)")
    print(f"final refresh token:                 rt-{result['final_seq']}")
    print(f"elapsed:                             {elapsed:.1f} s")
    ok = result["corrupt_reads"] == 0 and result["lost"] == 0 and not result["corrupt_files"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
