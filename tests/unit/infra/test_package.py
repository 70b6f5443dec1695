"""The packaging step's own checks and the compiled bytecode it adds to the Lambda package."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package import PackagingError, add_bytecode, check_roles, read_config, stage_environment

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def make_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_the_package_gets_bytecode_that_python_uses_without_the_sources_timestamps(tmp_path: Path) -> None:
    package = make_zip(tmp_path / "deployment.zip", {
        "app.py": "import lib.helper\nVALUE = lib.helper.VALUE\n",
        "lib/__init__.py": "",
        "lib/helper.py": "VALUE = 42\n",
        "lib/README.txt": "not code",
    })
    add_bytecode(package, RUNTIME)

    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "task")
    tag = sys.implementation.cache_tag
    assert {f"__pycache__/app.{tag}.pyc", f"lib/__pycache__/helper.{tag}.pyc"} <= names
    assert "lib/README.txt" in names
    # Whatever timestamps Lambda gives the unzipped sources, Python runs the bytecode without checking
    # them: a source changed after packaging is not even read.
    (tmp_path / "task" / "lib" / "helper.py").write_text("VALUE = 0\n")
    task = tmp_path / "task"
    done = subprocess.run([sys.executable, "-B", "-c", "import app; print(app.VALUE)"], cwd=task,
                          capture_output=True, text=True, check=True, env={"PYTHONPATH": str(task)})
    assert done.stdout.strip() == "42"


def test_bytecode_for_another_python_is_refused(tmp_path: Path) -> None:
    package = make_zip(tmp_path / "deployment.zip", {"app.py": ""})
    with pytest.raises(PackagingError, match="python3.99"):
        add_bytecode(package, "python3.99")


def test_a_function_left_with_chalices_role_stops_the_build() -> None:
    template = {"Resources": {
        "Tick": {"Type": "AWS::Serverless::Function",
                 "Properties": {"Role": {"Fn::GetAtt": ["TickRole", "Arn"]}}},
        "Worker": {"Type": "AWS::Serverless::Function", "Properties": {"Role": "arn:aws:iam::1:role/x"}},
    }}
    with pytest.raises(PackagingError, match="Worker"):
        check_roles(template)


def test_a_stage_takes_the_shared_settings_and_its_own() -> None:
    env = stage_environment(read_config(), "prod")
    assert env["HERALD_STAGE"] == "prod" and env["HERALD_MAX_BODY_BYTES"] == "262144"
    assert env["HERALD_DUE_SHARDS"] == "64"  # prod's own: more shards, one tick unit each
    with pytest.raises(PackagingError, match="staging"):
        stage_environment(read_config(), "staging")
