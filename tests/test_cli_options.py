"""Command-line options a newcomer reads: one meaning per name, help text for every option."""

from __future__ import annotations

import argparse

import pytest

from imugait.cli import build_parser

LIVE_COMMANDS = (("stream",), ("record",), ("assess",), ("calibrate", "imu"), ("scan",), ("demo",))


def _subparser(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser()
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("path", LIVE_COMMANDS, ids=" ".join)
def test_every_option_of_the_live_commands_has_help(path):
    parser = _subparser(path)
    bare = [a.option_strings for a in parser._actions if a.option_strings and not a.help]
    assert not bare, f"imugait {' '.join(path)}: options without help: {bare}"


def _every_parser(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _every_parser(sub, path + (name,))


def test_every_option_and_argument_of_every_command_has_help():
    bare = [(" ".join(path), a.option_strings or a.dest) for path, parser in _every_parser(build_parser())
            for a in parser._actions
            if not a.help and not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    assert not bare, f"without help text: {bare}"


def test_playback_and_walking_speed_each_have_one_name(capsys):
    parser = build_parser()
    args = parser.parse_args(["record", "--emulate", "4", "--duration", "3", "--out", "x", "--playback", "4",
                              "--walking-speed", "1.1"])
    assert args.playback == 4.0 and args.walking_speed == 1.1
    assert parser.parse_args(["simulate", "--out", "x", "--walking-speed", "0.9"]).walking_speed == 0.9
    for path in LIVE_COMMANDS[:4] + (("demo",),):
        assert "--playback" in _subparser(path).format_help()
        assert "--speed" not in _subparser(path).format_help()
    assert "--speed" not in _subparser(("simulate",)).format_help()


def test_the_old_speed_option_still_works_with_a_warning(capsys):
    parser = build_parser()
    assert parser.parse_args(["stream", "--emulate", "2", "--speed", "4"]).playback == 4.0
    assert "--speed is deprecated here; use --playback" in capsys.readouterr().err
    assert parser.parse_args(["simulate", "--out", "x", "--speed", "0.9"]).walking_speed == 0.9
    assert "use --walking-speed" in capsys.readouterr().err
    assert parser.parse_args(["calibrate", "imu", "--emulate"]).playback == 10.0  # the default stays
