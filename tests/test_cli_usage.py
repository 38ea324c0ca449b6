"""The command line's usage errors are one line on standard error with exit code 2, and
``relaynet <command> --help`` answers without loading pandas, numpy, geopandas or scipy.

Each case runs ``relaynet`` in a fresh interpreter: what a user sees on a terminal (standard
error apart from standard output) and which modules the process imported.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from relaynet.cli import COMMANDS, _choices

HEAVY = ("pandas", "numpy", "geopandas", "scipy")

_RUN = """\
import json, sys
from relaynet.cli import main
code = 0
try:
    main(sys.argv[1:], prog_name="relaynet")
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
heavy = [name for name in {heavy!r} if name in sys.modules]
sys.stderr.write("\\n" + json.dumps({{"code": code, "heavy": heavy}}) + "\\n")
"""


def relaynet(*args: str) -> tuple[int, str, str, list[str]]:
    """``relaynet ARGS`` in a fresh interpreter: exit code, stdout, stderr and the heavy
    libraries the process imported."""
    run = subprocess.run(
        [sys.executable, "-c", _RUN.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    stderr, _, record = run.stderr.rstrip("\n").rpartition("\n")
    probe = json.loads(record)
    return probe["code"], run.stdout, stderr.rstrip("\n"), probe["heavy"]


def assert_one_line(args: tuple[str, ...], prefix: str, *words: str) -> str:
    code, out, err, _ = relaynet(*args)
    assert code == 2, (args, code, out, err)
    assert out == "", (args, out)
    lines = err.splitlines()
    assert len(lines) == 1, (args, err)
    line = lines[0]
    assert line.startswith(prefix), line
    for word in words:
        assert word in line, (word, line)
    assert "Usage:" not in line and "Traceback" not in line
    return line


class TestUsageErrors:
    def test_unknown_option(self):
        line = assert_one_line(
            ("coverage", "--foo"), "relaynet coverage: error: no such option '--foo'"
        )
        assert line.endswith("(see 'relaynet coverage --help')")

    def test_unknown_option_suggests_a_near_one(self):
        assert_one_line(
            ("coverage", "--fromat", "csv"),
            "relaynet coverage: error: no such option '--fromat'; did you mean '--format'",
        )

    def test_missing_required_argument(self):
        assert_one_line(("validate",), "relaynet validate: error: missing argument 'PATH'")

    def test_missing_required_option(self):
        assert_one_line(
            ("report", "--out", "x"), "relaynet report: error: missing option '--points'"
        )

    def test_invalid_choice(self):
        assert_one_line(
            ("coverage", "--format", "docx", "--out", "x"),
            "relaynet coverage: error: invalid value for '--format': 'docx' is not one of",
            "'xlsx'",
        )

    def test_value_out_of_range(self):
        assert_one_line(("nearest", "-k", "0"), "relaynet nearest: error: invalid value for '-k'")

    def test_unknown_command(self):
        assert_one_line(("frobnicate",), "relaynet: error: no such command 'frobnicate'")
        assert_one_line(
            ("covrage", "--out", "x"),
            "relaynet: error: no such command 'covrage'; did you mean 'coverage'?",
        )

    def test_unknown_option_of_the_group(self):
        assert_one_line(("--foo", "coverage"), "relaynet: error: no such option '--foo'")

    def test_usage_error_raised_by_a_command(self):
        assert_one_line(
            ("coverage", "--costs-unit", "m", "--out", "x"),
            "relaynet coverage: error: --costs-unit without --costs",
        )

    @pytest.mark.parametrize("name", list(COMMANDS))
    def test_every_command(self, name):
        assert_one_line((name, "--no-such-option"), f"relaynet {name}: error: no such option")


class TestHelp:
    @pytest.mark.parametrize("args", [("--help",), ("-h",), ("--version",)])
    def test_group_help_is_light(self, args):
        code, out, err, heavy = relaynet(*args)
        assert code == 0 and out and err == ""
        assert heavy == []

    @pytest.mark.parametrize("name", list(COMMANDS))
    def test_command_help_is_light(self, name):
        code, out, err, heavy = relaynet(name, "--help")
        assert code == 0 and err == ""
        assert out.startswith(f"Usage: relaynet {name} [OPTIONS]")
        assert heavy == [], f"relaynet {name} --help imported {heavy}"

    def test_short_help_option(self):
        code, out, _, heavy = relaynet("coverage", "-h")
        assert code == 0 and "--points-format" in out and heavy == []


class TestChoices:
    """The plain copies the help shows equal the library's registries."""

    def test_points_formats(self):
        from relaynet.formats import FORMATS

        assert _choices.POINTS_FORMATS == FORMATS

    def test_unknown_hours(self):
        from relaynet.hours import UNKNOWN_POLICIES

        assert _choices.UNKNOWN_HOURS == UNKNOWN_POLICIES

    def test_default_standard(self):
        from relaynet.report.pipeline import DEFAULT_STANDARD

        assert _choices.DEFAULT_STANDARD == DEFAULT_STANDARD

    def test_models(self):
        from relaynet.optimize import MODELS
        from relaynet.report import OPTIMIZE_MODELS

        assert _choices.REPORT_MODELS == OPTIMIZE_MODELS
        assert _choices.OPTIMIZE_MODELS == MODELS
