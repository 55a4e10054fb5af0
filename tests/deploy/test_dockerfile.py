"""The image, checked without a Docker daemon: hadolint, and the properties the cluster relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _stages() -> list[str]:
    return re.split(r"^FROM ", DOCKERFILE, flags=re.M)[1:]


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv/bin/hadolint")
    out = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_dependencies_are_the_pins_of_pyproject():
    """The image installs the project itself, so its dependencies are pyproject's == pins and no
    second list can drift; every pin is exact."""
    build = _stages()[0]
    assert "COPY pyproject.toml" in build and re.search(r"pip install [^\n]*\.\s", build)
    assert not re.search(r"requirements|pip install [a-zA-Z]", build)
    for dependency in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        assert "==" in dependency, dependency


def test_final_stage_is_slim_non_root_and_runs_kongfu():
    final = _stages()[-1]
    assert final.startswith("python:3.11") and "slim" in final.splitlines()[0]
    assert "COPY --from=build /opt/kongfu /opt/kongfu" in final
    assert not re.search(r"apt-get|gcc|build-essential|pip install", final)  # no build tools
    user = re.search(r"^USER (\S+)", final, flags=re.M)
    assert user and not user.group(1).startswith(("root", "0"))
    assert 'ENTRYPOINT ["kongfu"]' in final
    assert not re.search(r"^HEALTHCHECK", DOCKERFILE, flags=re.M)  # the cluster's probes do it


def test_the_image_context_holds_every_package():
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    ignore = (ROOT / ".dockerignore").read_text()
    for package in packages:
        name = package.rstrip("*")
        assert f"!{name}/" in ignore and f"COPY {name} ./{name}" in DOCKERFILE, name
