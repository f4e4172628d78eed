"""The aequitas environment for tests/audit/test_aequitas.py: aequitas 1.1.0 needs pandas < 3,
which clashes with ours, so it gets a virtual environment of its own (./.venv-aequitas, or
$OPENEIS_AEQUITAS_VENV), built once and reused while its stamp file is there. Built under a
file lock, so that xdist workers, and .ci/run's early build beside the install
(`python tests/support/aequitas_env.py`), wait for one another instead of building twice."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AEQUITAS = "aequitas==1.1.0"


class BuildFailed(Exception):
    pass


def environment() -> Path:
    return Path(os.environ.get("OPENEIS_AEQUITAS_VENV", ROOT / ".venv-aequitas"))


def build(python_for_venv: str = sys.executable) -> Path:
    """The environment's python, building the environment first if needed."""
    venv = environment()
    python = venv / "bin" / "python"
    stamp = venv / f".installed-{AEQUITAS}"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            shutil.rmtree(venv, ignore_errors=True)
            steps = [[python_for_venv, "-m", "venv", str(venv)],
                     [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", AEQUITAS]]
            for step in steps:
                done = subprocess.run(step, capture_output=True, text=True)
                if done.returncode != 0:
                    raise BuildFailed(f"cannot build the aequitas environment: {' '.join(step)}\n"
                                      f"{done.stdout}\n{done.stderr}")
            stamp.write_text("built by tests/support/aequitas_env.py\n")
    return python


if __name__ == "__main__":
    try:
        print(build())
    except BuildFailed as error:
        # Not fatal here: the test builds it again and fails with this message if it must.
        print(error, file=sys.stderr)
