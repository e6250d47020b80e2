"""Build the sdist and the wheel, check what they contain, and try the wheel in a fresh venv.

Run from the repository root with the `build` package installed:

    python .ci/check_package.py

The wheel is built from the sdist, so a file missing from the sdist fails the build too. The
installed wheel is imported and run from a temporary folder, so the repository's own
`nine_pic_async/` cannot stand in for it. Its `ninepic demo` talks only to a sandbox on
127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SELFIES = ["runner.jpg", "cyclist.png", "crowd.jpg", "stranger.png"]
WHEEL_REQUIRED = [
    "nine_pic_async/py.typed",
    "nine_pic_async/__main__.py",
    "nine_pic_async/testing/pytest_plugin.py",
    *(f"nine_pic_async/testing/selfies/{name}" for name in SELFIES),
]
SDIST_REQUIRED = [
    *WHEEL_REQUIRED,
    "README.md",
    "CHANGELOG.md",
    "docs/README.md",
    "examples/quickstart.py",
    "tests/test_examples.py",
]
# Installed-wheel checks, run by the fresh venv's Python from a temporary folder.
SMOKE_TEST = """
import sys
from pathlib import Path

import nine_pic_async
from nine_pic_async.testing import SAMPLE_SELFIES

expected_version = sys.argv[1]
package = Path(nine_pic_async.__file__).parent
assert "site-packages" in str(package), f"imported from {package}, not the installed wheel"
assert nine_pic_async.__version__ == expected_version, nine_pic_async.__version__
assert (package / "py.typed").is_file(), "py.typed is missing"
for name, path in SAMPLE_SELFIES.items():
    assert path.is_file(), f"sample selfie {name} is missing"
    assert path.stat().st_size > 0, f"sample selfie {name} is empty"
print("installed wheel imports, version", nine_pic_async.__version__)
"""


def fail(message: str) -> None:
    print(f"check_package: {message}", file=sys.stderr)
    sys.exit(1)


def run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        fail(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def check_members(archive: str, names: list[str], required: list[str], prefix: str = "") -> None:
    missing = [name for name in required if prefix + name not in names]
    if missing:
        fail(f"{archive} lacks {', '.join(missing)}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ninepic-package-") as temporary:
        work = Path(temporary)
        dist = work / "dist"
        run(sys.executable, "-m", "build", "--outdir", dist, ROOT, cwd=ROOT)
        wheels = list(dist.glob("*.whl"))
        sdists = list(dist.glob("*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            found = sorted(path.name for path in dist.iterdir())
            fail(f"expected one wheel and one sdist, found {found}")
        wheel, sdist = wheels[0], sdists[0]

        with zipfile.ZipFile(wheel) as archive:
            wheel_names = archive.namelist()
        check_members(wheel.name, wheel_names, WHEEL_REQUIRED)
        stray = [name for name in wheel_names if name.startswith(("tests/", "examples/"))]
        if stray:
            fail(f"{wheel.name} contains files that are not part of the package: {stray[:5]}")

        with tarfile.open(sdist) as archive:
            sdist_names = archive.getnames()
        top = sdist_names[0].split("/", 1)[0] + "/"
        check_members(sdist.name, sdist_names, SDIST_REQUIRED, prefix=top)

        environment = work / "venv"
        venv.create(environment, with_pip=True)
        python = environment / "bin" / "python"
        run(python, "-m", "pip", "install", "-q", wheel, cwd=work)
        version = wheel.name.split("-")[1]
        print(run(python, "-c", SMOKE_TEST, version, cwd=work), end="")

        command_version = run(environment / "bin" / "ninepic", "--version", cwd=work)
        module_version = run(python, "-m", "nine_pic_async", "--version", cwd=work)
        if command_version != module_version or version not in command_version:
            fail(f"ninepic --version {command_version!r}, python -m: {module_version!r}")
        demo = json.loads(run(python, "-m", "nine_pic_async", "demo", "--json", cwd=work))
        if demo["matches"] != demo["expected_matches"] or demo["second_read_network_requests"]:
            fail(f"ninepic demo from the wheel went wrong: {demo}")
        print(f"checked {wheel.name} and {sdist.name}")


if __name__ == "__main__":
    main()
