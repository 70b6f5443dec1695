"""Builds one stage's CloudFormation template and deployment package, offline.

    python -m infra.package --stage dev                  # build/dev/template.json + deployment.zip
    python -m infra.package --stage dev --template-only  # the same template, no dependencies fetched

The app is imported with the stage's environment from .chalice/config.json (queue names are read at import),
`infra.template` writes the merge template, and `chalice package --merge-template` merges it over its own.
`--template-only` packages a copy of the app without requirements.txt, so pip is never run; the template
is the same, since the code location is `./deployment.zip` either way.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE = "import sys; from chalice.cli import main; sys.exit(main())"
# Chalice makes AWS clients while packaging, so it needs a region; the template itself names none.
PACKAGING_REGION = "us-east-1"
APP_FILES = ("app.py", "chalicelib")


class PackagingError(RuntimeError):
    pass


def read_config(project_dir: Path = ROOT) -> dict[str, Any]:
    return json.loads((project_dir / ".chalice" / "config.json").read_text())


def stage_environment(config: dict[str, Any], stage: str) -> dict[str, str]:
    if stage not in config.get("stages", {}):
        raise PackagingError(f"No stage {stage!r} in .chalice/config.json; there are: "
                             f"{', '.join(config['stages'])}")
    merged = {**config.get("environment_variables", {}),
              **config["stages"][stage].get("environment_variables", {})}
    return {name: str(value) for name, value in merged.items()}


def _packaging_environment(stage_env: dict[str, str]) -> dict[str, str]:
    # Nothing from a developer's shell (an endpoint, a profile, another stage) leaks into the build.
    env = {name: value for name, value in os.environ.items() if not name.startswith(("HERALD_", "AWS_"))}
    env.update(stage_env)
    env["AWS_DEFAULT_REGION"] = PACKAGING_REGION
    return env


def _write_merge_template(stage: str, config: dict[str, Any], path: Path) -> None:
    """Runs in a fresh interpreter whose environment is the stage's (see `main`)."""
    from app import app
    from infra.functions import app_functions
    from infra.template import merge_template

    template = merge_template(stage, app.app_name, app_functions(app), config, api_paths=app.routes)
    path.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")


def _app_copy(into: Path) -> Path:
    into.mkdir()
    for name in APP_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, into / name)
    (into / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", into / ".chalice" / "config.json")
    return into


def _chalice_package(project_dir: Path, stage: str, merge: Path, out: Path, env: dict[str, str]) -> None:
    command = [sys.executable, "-c", CHALICE, "package", "--stage", stage, "--merge-template", str(merge),
               str(out)]
    done = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise PackagingError(f"chalice package failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def add_bytecode(zip_path: Path, runtime: str) -> None:
    """Adds a compiled .pyc beside every module in the package.

    Lambda's /var/task is read-only, so Python cannot keep what it compiles: without these, every cold
    start compiles the app and its libraries again (bench/package.py measures the difference). Unchecked
    hash-based .pyc files are used whatever the sources' timestamps are after Lambda unzips them.
    """
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        raise PackagingError(f"the functions run {runtime} but this is {here}: the .pyc files would not load")
    with tempfile.TemporaryDirectory(prefix="herald-bytecode-") as scratch:
        unpacked = Path(scratch) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            entries = archive.infolist()
            archive.extractall(unpacked)
        # Files that do not compile (a library's Python 2 example, say) keep working from source.
        compileall.compile_dir(unpacked, quiet=2, ddir="/var/task", workers=0,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        rebuilt = zip_path.with_suffix(".rebuilt")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as archive:
            for entry in entries:
                archive.writestr(entry, (unpacked / entry.filename).read_bytes() if not entry.is_dir() else b"")
            for compiled in sorted(unpacked.rglob("*.pyc")):
                info = zipfile.ZipInfo(compiled.relative_to(unpacked).as_posix(),
                                       date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                archive.writestr(info, compiled.read_bytes(), zipfile.ZIP_DEFLATED)
        rebuilt.replace(zip_path)


def check_roles(template: dict[str, Any]) -> None:
    """Every function runs as a role from infra/template.py, and Chalice made none of its own."""
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            role = resource["Properties"].get("Role")
            if not (isinstance(role, dict) and role.get("Fn::GetAtt", [""])[0] == logical_id + "Role"):
                raise PackagingError(f"{logical_id} runs as {role!r}, not as the role infra/template.py makes")


def package(stage: str, out: Path, template_only: bool = False) -> Path:
    """Writes out/template.json (and out/deployment.zip unless template_only); returns the template's path."""
    config = read_config()
    env = _packaging_environment(stage_environment(config, stage))
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge-template.json"
    subprocess.run([sys.executable, "-m", "infra.package", "--stage", stage, "--write-merge-template", str(merge)],
                   cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)}, check=True)
    with tempfile.TemporaryDirectory(prefix="herald-package-") as scratch:
        chalice_out = Path(scratch) / "out"
        project_dir = _app_copy(Path(scratch) / "app") if template_only else ROOT
        _chalice_package(project_dir, stage, merge, chalice_out, env)
        template = json.loads((chalice_out / "sam.json").read_text())
        check_roles(template)
        (out / "template.json").write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
        zip_path = out / "deployment.zip"
        if template_only:
            zip_path.unlink(missing_ok=True)
        else:
            shutil.move(str(chalice_out / "deployment.zip"), zip_path)
            [runtime] = {r["Properties"]["Runtime"] for r in template["Resources"].values()
                         if r["Type"] == "AWS::Serverless::Function"}
            add_bytecode(zip_path, runtime)
    return out / "template.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=Path, help="default: build/<stage>")
    parser.add_argument("--template-only", action="store_true", help="skip the dependencies (no pip, no network)")
    parser.add_argument("--write-merge-template", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.write_merge_template:
            _write_merge_template(args.stage, read_config(), args.write_merge_template)
            return 0
        path = package(args.stage, args.out or ROOT / "build" / args.stage, args.template_only)
    except PackagingError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
