"""Reads the project's Dockerfile and replays its recipe on the host, without an engine.

Only the instructions the Dockerfile uses are understood; any other one raises, so
a new instruction cannot slip past the tests that replay the recipe. The "image"
is a directory: absolute paths of the image map below it.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests._process import ROOT

KNOWN = {"FROM", "ENV", "WORKDIR", "COPY", "RUN", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
Overrides = Mapping[str, str | None]
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass
class Stage:
    """One ``FROM`` and the instructions up to the next."""

    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def one(self, keyword: str) -> str:
        found = self.args(keyword)
        assert len(found) == 1, f"expected one {keyword} in the stage, found {found}"
        return found[0]

    def env(self, start: Mapping[str, str], overrides: Overrides) -> dict[str, str]:
        """The environment after the stage's ``ENV`` lines, expanded as Docker does."""
        env = dict(start)
        for args in self.args("ENV"):
            apply_env(args, env, overrides)
        return env


def parse(text: str) -> list[Stage]:
    """Stages of a Dockerfile: continuation lines joined, comments dropped."""
    stages: list[Stage] = []
    joined = re.sub(r"\\\n(?:\s*#[^\n]*\n)*", " ", text)
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword not in KNOWN:
            raise ValueError(f"the recipe replay does not know {keyword}: {line}")
        if keyword == "FROM":
            stages.append(Stage(base=args.split()[0]))
        else:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def expand(value: str, env: Mapping[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), value)


def env_pairs(args: str, env: Mapping[str, str]) -> dict[str, str]:
    """``ENV A=1 B="$A x"``: every value sees the environment from before the line."""
    pairs = {}
    for token in shlex.split(args):
        key, sep, value = token.partition("=")
        assert sep, f"write ENV {key}=value"
        pairs[key] = expand(value, env)
    return pairs


def apply_env(args: str, env: dict[str, str], overrides: Overrides) -> None:
    """One ``ENV`` line; a key in ``overrides`` takes that value instead (None: unset)."""
    for key, value in env_pairs(args, env).items():
        replaced = overrides.get(key, value)
        if replaced is None:
            env.pop(key, None)
        else:
            env[key] = replaced


def exec_form(args: str) -> list[str]:
    """The JSON array of ``CMD`` (or of ``HEALTHCHECK ... CMD``): shell form is refused."""
    if not args.startswith("["):
        _, _, args = args.partition(" CMD ")
    command = json.loads(args)
    assert isinstance(command, list) and all(isinstance(a, str) for a in command)
    return command


def copy_sources(args: str) -> tuple[list[str], str]:
    *sources, dest = args.split()
    return [s for s in sources if not s.startswith("--")], dest


def build(
    stage: Stage, context: Path, root: Path, env: dict[str, str], overrides: Overrides
) -> None:
    """Run a build stage: ``COPY`` from ``context`` and ``RUN`` with ``sh -c``, below ``root``."""
    workdir = root
    for keyword, args in stage.instructions:
        if keyword == "ENV":
            apply_env(args, env, overrides)
        elif keyword == "WORKDIR":
            workdir = root / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            sources, dest = copy_sources(args)
            target = workdir / dest
            for source in sources:
                path = context / source
                if path.is_dir():
                    shutil.copytree(
                        path,
                        target,
                        dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"),
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / path.name)
        elif keyword == "RUN":
            subprocess.run(["sh", "-c", args], cwd=workdir, env=env, check=True, timeout=300)
        else:
            raise ValueError(f"a build stage should not need {keyword}")


DOCKERFILE = ROOT / "Dockerfile"
#: The project's image recipe: the build stage first, the final (shipped) stage last.
STAGES = parse(DOCKERFILE.read_text(encoding="utf-8"))
BUILD, FINAL = STAGES[0], STAGES[-1]
