"""Serving command lines as the gate reads them: the engine, its flags, and what is skipped.

Accepted, after optional leading ``VAR=value`` words (or ``env VAR=value``) and an optional
``sh -c`` / ``bash -c`` wrapper (its last ``&&``/``;`` segment that runs an engine):

* ``vllm serve MODEL ...``, ``python -m vllm.entrypoints.openai.api_server --model M ...``
  (a bare flag list is read as ``vllm serve`` arguments);
* ``python -m sglang.launch_server --model-path M ...``, ``sglang serve ...``;
* ``trtllm-serve [serve] MODEL ...``.

``--config FILE`` (vLLM, SGLang) is a YAML mapping of the engine's flags; flags given on
the command line override it, as in the engines. Every word ends up read, listed as
ignored (no effect on memory or speed), or named in a warning; another engine's flag, or a
misspelt vLLM flag (``--max-modle-len``), is an :class:`InputError` (exit 2), since the
engine would refuse to start (:mod:`service.gate.engine_flags`).
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import msgspec

from service.gate.config_file import config_words
from service.gate.engine_flags import ENGINES, SGLANG, TRTLLM, VLLM, EngineFlags, other_engines_with
from service.gate.target import InputError

SOURCE = "command line"
_ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
_MODULES = {
    "vllm.entrypoints.openai.api_server": VLLM,
    "sglang.launch_server": SGLANG,
}
_SEPARATORS = ("&&", ";", "||")


class ServeCommand(msgspec.Struct, frozen=True, kw_only=True):
    """What a serving command asks for.

    ``fields`` are deployment fields (``model``, ``tensor_parallel`` …, and
    ``data_parallel``); ``options`` are engine knobs for the engine's memory model
    (``max_num_batched_tokens`` …); ``ignored`` are words with no effect on memory or speed;
    ``warnings`` name what is read but not modelled, or not known.
    """

    engine: str
    program: str
    fields: dict[str, Any]
    options: dict[str, Any]
    ignored: tuple[str, ...]
    warnings: tuple[str, ...]


def unwrap_shell(words: Sequence[str]) -> list[str]:
    """``sh -c "A && exec vllm serve M"`` -> the words of the engine segment."""
    words = list(words)
    if len(words) >= 3 and PurePosixPath(words[0]).name in ("sh", "bash") and words[1] == "-c":
        script = shlex.split(words[2])
        segments: list[list[str]] = [[]]
        for word in script:
            if word in _SEPARATORS:
                segments.append([])
            else:
                segments[-1].append(word)
        serving = [s for s in segments if _engine_of(_drop_environment(_no_exec(s))[1])]
        words = serving[-1] if serving else script
    return _no_exec(words)


def _no_exec(words: list[str]) -> list[str]:
    return words[1:] if words[:1] == ["exec"] else words


def _drop_environment(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """Leading ``VAR=value`` words (after an optional ``env``), and the rest."""
    rest = list(words)
    if rest[:1] == ["env"]:
        rest = rest[1:]
    environment: list[str] = []
    while rest and _ENV_WORD.match(rest[0]):
        environment.append(rest.pop(0))
    return environment, rest


def _engine_of(words: Sequence[str]) -> tuple[EngineFlags, int] | None:
    """The engine a command runs and how many words name the program, if it is one."""
    if not words:
        return None
    program = PurePosixPath(words[0]).name
    if program == "vllm" and words[1:2] == ["serve"]:
        return VLLM, 2
    if program == "sglang" and words[1:2] == ["serve"]:
        return SGLANG, 2
    if program == "trtllm-serve":
        return TRTLLM, 2 if words[1:2] == ["serve"] else 1
    if _PYTHON.match(program) and words[1:2] == ["-m"] and len(words) > 2:
        engine = _MODULES.get(words[2])
        return (engine, 3) if engine else None
    return None


def _program(words: list[str], source: str) -> tuple[EngineFlags, list[str]]:
    found = _engine_of(words)
    if found is not None:
        engine, length = found
        return engine, words[length:]
    if not words or words[0].startswith("-") or words[0] == "serve" or "/" in words[0]:
        # A bare ``vllm serve`` argument list (``serve M ...``, ``M --flag ...``, ``--flag ...``).
        return VLLM, words[1:] if words[:1] == ["serve"] else words
    program = PurePosixPath(words[0]).name
    if _PYTHON.match(program) and words[1:2] == ["-m"]:
        module = words[2] if len(words) > 2 else "(none)"
        expected = " or ".join(_MODULES)
        raise InputError(source, "(command)", f"python -m {module}: expected {expected}")
    raise InputError(
        source,
        "(command)",
        f"'{words[0]}' is not a serving command: expected vllm serve, "
        "python -m vllm.entrypoints.openai.api_server, python -m sglang.launch_server, "
        "sglang serve or trtllm-serve",
    )


def _normalise(flag: str, engine: EngineFlags) -> str:
    """vLLM's parser accepts ``--max_model_len`` for ``--max-model-len``."""
    if engine is VLLM and flag.startswith("--"):
        return "--" + flag[2:].replace("_", "-")
    return flag


def _unknown_flag(flag: str, engine: EngineFlags, source: str) -> InputError | None:
    """The error for another engine's flag (the engine would refuse it), else ``None``."""
    others = other_engines_with(flag, engine.engine)
    if not others:
        return None
    known = [*engine.read, *engine.no_effect, *engine.not_modelled]
    close = difflib.get_close_matches(flag, known, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    owners = " and ".join(ENGINES[name].program for name in others)
    message = f"{engine.program} has no such flag (it is a {owners} flag){hint}"
    return InputError(source, flag, message)


def parse_command(argv: Sequence[str], *, source: str = SOURCE, base_dir: Path) -> ServeCommand:
    """Read a serving command (module doc); bad values and foreign flags are errors."""
    environment, words = _drop_environment(unwrap_shell(argv))
    engine, args = _program(words, source)
    fields: dict[str, Any] = {}
    options: dict[str, Any] = {}
    ignored: list[str] = []
    warnings = [f"environment {word}: not modelled" for word in environment]
    index = 0
    while index < len(args):
        word = args[index]
        index += 1
        if not word.startswith("-") or word == "-":
            if "model" in fields or engine is SGLANG:
                expected = "--model-path MODEL" if engine is SGLANG else "one MODEL"
                message = f"unexpected argument: {engine.program} takes {expected}"
                raise InputError(source, word, message)
            fields["model"] = word
            continue
        raw_flag, equals, value = word.partition("=")
        flag = _normalise(raw_flag, engine)
        following = args[index] if index < len(args) else None
        if flag == "--config" and engine is not TRTLLM:
            if not equals:
                if following is None:
                    raise InputError(source, flag, "expects a file")
                value, index = following, index + 1
            args[index:index] = config_words(value, engine.program, source, base_dir)
            continue
        negated = engine is VLLM and flag.startswith("--no-") and "--" + flag[5:] in engine.read
        entry = engine.read.get("--" + flag[5:] if negated else flag)
        if entry is not None and (entry.read is None or negated):
            _store(entry.key, not negated, fields, options)
            continue
        if entry is not None:
            if not equals:
                if following is None:
                    raise InputError(source, flag, "expects a value")
                value, index = following, index + 1
            try:
                _store(entry.key, entry.read(value), fields, options)  # type: ignore[misc]
            except ValueError:
                raise InputError(source, flag, f"invalid value '{value}'") from None
            continue
        error = _unknown_flag(flag, engine, source)
        if error is not None and not engine.has(flag):
            raise error
        if (typo := engine.typo_of(flag)) is not None:
            message = f"{engine.program} has no such flag and would refuse to start"
            raise InputError(source, flag, f"{message}; did you mean {typo}?")
        takes_value = not equals and not engine.is_switch(flag) and following is not None
        takes_value = takes_value and not following.startswith("-")  # type: ignore[union-attr]
        said = f"{word} {following}" if takes_value else word
        index += 1 if takes_value else 0
        if flag in engine.no_effect or flag in engine.no_effect_switches:
            ignored.append(said)
        elif engine.knows(flag):
            warnings.append(f"{said}: changes memory or speed; capplan does not model it")
        elif engine.has(flag):
            warnings.append(f"{said}: a {engine.program} flag capplan does not read")
        else:
            warnings.append(f"{said}: not a {engine.program} flag capplan knows; not read")
    if "model" not in fields:
        where = "--model-path" if engine is SGLANG else "MODEL (or --model)"
        raise InputError(source, where, f"required: {engine.program} needs a model")
    return ServeCommand(
        engine=engine.engine,
        program=engine.program,
        fields=fields,
        options=options,
        ignored=tuple(ignored),
        warnings=tuple(warnings),
    )


def _store(key: str, value: Any, fields: dict[str, Any], options: dict[str, Any]) -> None:
    if key.startswith("option:"):
        options[key.removeprefix("option:")] = value
    else:
        fields[key] = value


def split_command(text: str) -> list[str]:
    """A command written as one string (a manifest's ``command: "vllm serve ..."``)."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InputError(SOURCE, "(command)", f"cannot split '{text}': {exc}") from exc
