"""The guides in docs/: their Python compiles, their links resolve, and their tests pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nine_pic_async.testing import Sandbox
from tests.test_examples import example_env, run_example, succeeded

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)


def test_every_page_is_listed() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")

    for page in PAGES:
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_python_blocks_compile(page: Path) -> None:
    for block in python_blocks(page):
        compile(block, str(page), "exec")


@pytest.mark.parametrize("page", [*PAGES, ROOT / "README.md"], ids=lambda page: page.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if "://" in target:
            continue
        assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


async def test_testing_page_tests_pass(tmp_path: Path) -> None:
    blocks = python_blocks(ROOT / "docs" / "testing.md")
    tests = [block for block in blocks if "async def test_" in block]
    (tmp_path / "conftest.py").write_text(blocks[0], encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error\n",
        encoding="utf-8",
    )
    for number, block in enumerate(tests):
        (tmp_path / f"test_page_{number}.py").write_text(block, encoding="utf-8")

    run = succeeded(
        await run_example(None, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider")
    )

    assert len(tests) == 2
    assert "2 passed" in run.stdout


async def test_quickstart_page_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    (block,) = [
        block for block in python_blocks(ROOT / "docs" / "quickstart.md") if "asyncio.run" in block
    ]
    script = tmp_path / "first_search.py"
    script.write_text(block, encoding="utf-8")
    env = example_env(sandbox)
    env["NINEPIC_BASE_URL"] = sandbox.base_url

    run = succeeded(await run_example(sandbox, str(script), env=env))

    assert "Mumbai Marathon 2026 selfie search on: True" in run.stdout
    assert " 87 matches" in run.stdout
    assert len(run.stdout.splitlines()) == 2 + 87
