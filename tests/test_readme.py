"""The README's Python examples run as written, against the sandbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nine_pic_async.testing import SAMPLE_MATCHES, Sandbox
from tests.test_examples import example_env, run_example, succeeded

README = Path(__file__).parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def block_containing(text: str) -> str:
    matches = [block for block in python_blocks() if text in block]
    assert len(matches) == 1, f"expected one README example containing {text!r}"
    return matches[0]


def test_every_example_compiles() -> None:
    blocks = python_blocks()

    assert len(blocks) >= 3
    for block in blocks:
        compile(block, "README.md", "exec")


async def test_sandbox_example_runs() -> None:
    namespace: dict[str, Any] = {}
    exec(block_containing("async def test_my_search_flow"), namespace)

    await namespace["test_my_search_flow"]()


async def test_quickstart_runs(sandbox: Sandbox, tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(block_containing("asyncio.run(main())"), encoding="utf-8")
    env = example_env(sandbox)
    env["NINEPIC_BASE_URL"] = sandbox.base_url

    run = succeeded(await run_example(sandbox, str(script), env=env))

    assert f" {SAMPLE_MATCHES['runner.jpg']} matches" in run.stdout
    assert len(run.stdout.splitlines()) == 1 + SAMPLE_MATCHES["runner.jpg"]
    assert sandbox.stats.billable_searches == 1
