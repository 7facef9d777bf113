"""``--config FILE`` of vLLM and SGLang: a YAML mapping of the engine's flags, as words.

Keys are flag names without ``--`` (``tensor-parallel-size: 4``); ``true`` is a switch that
is on, ``false``/null leave it out, lists repeat values, mappings become JSON (vLLM's
``--compilation-config``). The words go before the command line's own flags, so those win,
as they do in the engines (vLLM ``FlexibleArgumentParser``).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from service.gate.input_files import DuplicateKey, load_document, read_text
from service.gate.target import InputError


def config_words(path_text: str, program: str, source: str, base_dir: Path) -> list[str]:
    """``--config FILE``: its YAML mapping as flags, in file order."""
    path = Path(path_text).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    expected = f"expected a YAML mapping of {program} flags"
    try:
        document = load_document(read_text(path))
    except OSError as exc:
        raise InputError(source, "--config", f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputError(source, "--config", f"{path} is not YAML ({exc}); {expected}") from exc
    except DuplicateKey as exc:
        raise InputError(source, "--config", f"{path}: key '{exc.field}': {exc.message}") from exc
    except ValueError as exc:
        raise InputError(source, "--config", f"{path}: {exc}") from exc
    if not isinstance(document, dict):
        raise InputError(source, "--config", f"{path}: {expected}")
    words: list[str] = []
    for key, value in document.items():
        flag = f"--{key}"
        if value is True:
            words.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, list):
            words += [flag, *(str(item) for item in value)]
        elif isinstance(value, dict):
            words += [flag, json.dumps(value)]
        else:
            words += [flag, str(value)]
    return words
