"""hl_testkit.secrets.scan: files in, findings out, never the secret. No network."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
import yaml

from hl_testkit.cassettes.file import dumps as dump_cassette
from hl_testkit.cassettes.model import CassetteData, Interaction, RecordedRequest, RecordedResponse
from hl_testkit.secrets.scan import ScanFinding, format_findings, run_scan, scan_paths
from hl_testkit.secrets.scrub import known_secrets, scrub_interaction

REPO = Path(__file__).resolve().parent.parent
HL_KEY = "hl_sk_Ab+Cd/Ef=Gh9Xy/zZq+Tw0=="
ENV = {"HUMANLOOP_API_KEY": HL_KEY}
CLEAN = "format: hl-testkit-cassette/1\ninteractions: []\n"


def leaky_cassette() -> str:
    interaction = Interaction(
        RecordedRequest("GET", "https://api.humanloop.com/v4/sessions?project_id=pr_demo"),
        RecordedResponse(
            401,
            "Unauthorized",
            {"Content-Type": "application/json"},
            f'{{"detail":"Invalid API key {HL_KEY}"}}'.encode(),  # compact: kept as data
        ),
    )
    return dump_cassette(CassetteData([interaction]))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(paths: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_scan(paths, ENV if env is None else env, out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_planted_leak_is_reported_by_file_line_and_source(tmp_path: Path) -> None:
    leaky = write(tmp_path / "cassettes" / "t" / "leaky.yaml", leaky_cassette())
    write(tmp_path / "cassettes" / "t" / "clean.yml", CLEAN)

    findings = scan_paths([tmp_path / "cassettes"], ENV)

    line = leaky_cassette().splitlines().index(f"        detail: Invalid API key {HL_KEY}") + 1
    assert findings == [ScanFinding(leaky, line, "secret, raw", "HUMANLOOP_API_KEY")]
    assert format_findings(findings) == f"{leaky}:{line}: secret, raw (HUMANLOOP_API_KEY)\n"
    assert HL_KEY not in repr(findings)


def test_encoded_leaks_in_json_files_are_found_too(tmp_path: Path) -> None:
    encoded = base64.b64encode(f"user:{HL_KEY}".encode()).decode()
    write(tmp_path / "d" / "x.json", f'{{\n  "auth": "Basic {encoded}"\n}}\n')
    findings = scan_paths([tmp_path / "d"], ENV)
    assert [(f.line, f.source) for f in findings] == [(2, "HUMANLOOP_API_KEY")]
    assert findings[0].kind.startswith("secret, base64")


def test_scrubbed_cassettes_scan_clean(tmp_path: Path) -> None:
    raw = Interaction(
        RecordedRequest("GET", f"https://api.humanloop.com/v4/sessions?api_key={HL_KEY}"),
        RecordedResponse(401, "Unauthorized", {}, f"bad key {HL_KEY}".encode()),
    )
    scrubbed = scrub_interaction(raw, known_secrets(ENV))
    before = write(tmp_path / "before.yaml", dump_cassette(CassetteData([raw])))
    after = write(tmp_path / "after.yaml", dump_cassette(CassetteData([scrubbed])))
    assert len(scan_paths([before], ENV)) == 2
    assert scan_paths([after], ENV) == []


def test_key_shaped_strings_are_found_without_knowing_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path / "k.yaml",
        "headers:\n  Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123\n"
        "body:\n  json:\n    openai_api_key: sk-q8Zr2LmX9vTa7KpW4nBc6YdE\n",
    )
    findings = scan_paths([path], env={})
    assert [(f.line, f.kind, f.source) for f in findings] == [
        (2, "bearer token", "key-shaped"),
        (5, "sk- key", "key-shaped"),
        (5, "high-entropy value", "key-shaped, field openai_api_key"),
    ]
    assert "abcdefghijklmnopqrstuvwxyz0123" not in format_findings(findings)


def test_a_known_secret_line_is_not_reported_again_as_key_shaped(tmp_path: Path) -> None:
    key = "sk-q8Zr2LmX9vTa7KpW4nBc6YdE"
    path = write(tmp_path / "k.yaml", f"a: 1\nopenai_api_key: {key}\n")
    findings = scan_paths([path], {"OPENAI_API_KEY": key})
    assert findings == [ScanFinding(path, 2, "secret, raw", "OPENAI_API_KEY")]


def test_directories_are_searched_for_yaml_and_json_only_named_files_always(
    tmp_path: Path,
) -> None:
    write(tmp_path / "d" / "notes.txt", HL_KEY)
    named = write(tmp_path / "named.txt", HL_KEY)
    assert scan_paths([tmp_path / "d"], ENV) == []
    assert [f.path for f in scan_paths([named], ENV)] == [named]


def test_the_repository_cassettes_scan_clean() -> None:
    assert scan_paths([REPO / "cassettes"], env={}) == []


# -- the command ------------------------------------------------------------------------


def test_run_scan_clean_is_0(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", CLEAN)
    code, out, _ = run([str(tmp_path)])
    assert code == 0
    assert "1 file(s) clean" in out
    assert "HUMANLOOP_API_KEY" in out  # says what it checked for
    assert HL_KEY not in out


def test_run_scan_with_findings_is_1_and_never_prints_the_secret(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", leaky_cassette())
    code, out, err = run([str(path)])
    assert code == 1
    assert re.search(rf"^{re.escape(str(path))}:\d+: secret, raw \(HUMANLOOP_API_KEY\)$", out, re.M)
    assert "1 finding(s) in 1 file(s)" in out
    assert HL_KEY not in out + err


def test_run_scan_bad_path_is_2(tmp_path: Path) -> None:
    code, out, err = run([str(tmp_path / "missing")])
    assert code == 2
    assert "no such file or directory" in err
    assert out == ""


def test_run_scan_defaults_to_the_cassettes_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run([])[0] == 2  # no ./cassettes yet
    write(tmp_path / "cassettes" / "x.yaml", leaky_cassette())
    code, out, _ = run([])
    assert code == 1
    assert out.startswith(str(Path("cassettes") / "x.yaml") + ":")


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "hl-testkit-scan"]
    assert hook["entry"] == "hl-testkit scan"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    assert files.search("cassettes/tests/test_x/test_y.yaml")
    assert files.search("cassettes/a.yml")
    assert not files.search("cassettes/a.json")
    assert not files.search("src/cassettes/a.yaml")
