"""The ninepic command: its output, and one clear line and a non-zero status on errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from nine_pic_async.cli import main
from nine_pic_async.testing import SAMPLE_MATCHES, SAMPLE_SELFIES


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NINEPIC_API_KEY", "NINEPIC_ORG_ID", "NINEPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_demo_reads_everything_twice(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["matches"] == SAMPLE_MATCHES["runner.jpg"]
    assert summary["images"] == SAMPLE_MATCHES["runner.jpg"]
    assert summary["billable_searches"] == 1
    assert summary["first_read_network_requests"] == summary["pages"]
    assert summary["second_read_network_requests"] == 0


def test_demo_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo"])

    output = capsys.readouterr().out
    assert status == 0
    assert "0 network requests" in output
    assert "image_id" in output


def test_search_all_pages_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["search", "456", str(SAMPLE_SELFIES["runner.jpg"]), "--all", "--json"])

    captured = capsys.readouterr()
    pages = json.loads(captured.out)
    assert status == 0
    assert sum(len(page["images"]) for page in pages) == SAMPLE_MATCHES["runner.jpg"]
    assert "embedded sandbox" in captured.err


def test_search_table_shows_matches(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["search", "456", str(SAMPLE_SELFIES["cyclist.png"])])

    output = capsys.readouterr().out
    assert status == 0
    assert "12 matches on 1 page" in output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["results", "456", "ddc661a7-8861-4793-9437-af42a82d12f8"], "404"),
        (["results", "456", "not-a-uuid"], "request_id must be a UUID"),
        (["search", "456", "/nonexistent/selfie.jpg"], "selfie file not found"),
        (["search", "457", str(SAMPLE_SELFIES["runner.jpg"])], "selfie_search"),
        (["search", "456", "x.jpg", "--org-id", "5"], "need an API key"),
        (["search", "456", str(SAMPLE_SELFIES["runner.jpg"]), "--page-size", "500"], "page_size"),
    ],
)
def test_errors_print_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status = main(argv)

    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert status == 1
    assert len(errors) == 1
    assert message in errors[0]
    assert "Traceback" not in errors[0]


@pytest.mark.parametrize("port", ["99999", "-5", "http"])
def test_invalid_port_is_a_usage_error(capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["sandbox", "--port", port])

    assert caught.value.code == 2
    assert "invalid port" in capsys.readouterr().err


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_sandbox_on_a_busy_port_fails_cleanly(
    capsys: pytest.CaptureFixture[str], busy_port: int
) -> None:
    status = main(["sandbox", "--port", str(busy_port)])

    error = capsys.readouterr().err
    assert status == 1
    assert error.startswith("ninepic: error:")
    assert "listening" not in error


def test_sandbox_key_without_base_url_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Exported for the sandbox, with NINEPIC_BASE_URL forgotten: the default is the real API.
    monkeypatch.setenv("NINEPIC_API_KEY", "sandbox-key")
    monkeypatch.setenv("NINEPIC_ORG_ID", "903")

    status = main(["search", "456", str(SAMPLE_SELFIES["runner.jpg"])])

    error = capsys.readouterr().err
    assert status != 0
    assert error.startswith("ninepic: error:")
    assert "NINEPIC_BASE_URL" in error


def test_download_by_bib_writes_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = main(["download", "456", "--bib", "777", "--to", str(tmp_path)])

    output = capsys.readouterr().out
    assert status == 0
    assert output.startswith("1 downloaded")
    assert len(list(tmp_path.iterdir())) == 1


def test_download_twice_skips_as_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    main(["download", "456", "--bib", "777", "--to", str(tmp_path)])
    capsys.readouterr()

    status = main(["download", "456", "--bib", "777", "--to", str(tmp_path), "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert status == 0
    assert summary["downloaded"] == []
    assert len(summary["skipped"]) == 1


def test_download_needs_one_selector(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["download", "456", "--to", str(tmp_path)])

    assert caught.value.code == 2
    assert "--selfie" in capsys.readouterr().err
