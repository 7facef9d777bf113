"""The gate's input files as text and YAML: UTF-8 only, and no mapping key given twice.

Manifests, Kubernetes streams (a file or stdin), ``--config`` files and ``config.json`` are
read as UTF-8, as YAML 1.2 and JSON expect. Other bytes (a Latin-1 ``é``, a UTF-16 file)
are bad input naming the byte and its line, not a traceback.

YAML keeps the last of two equal keys without a word, so ``model:`` twice would check the
second model. A key given twice in one mapping is an error naming its path and both lines;
``kubectl`` refuses such objects too (``mapping key "x" already defined``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


class DuplicateKey(ValueError):
    """A mapping key given twice; ``field`` is its dotted path (``workload.input_tokens``)."""

    def __init__(self, field: str, lines: tuple[int, int], document: int | None) -> None:
        where = f" in document {document}" if document is not None else ""
        first, second = lines
        on = f"twice on line {first}" if first == second else f"on lines {first} and {second}"
        message = f"duplicate key{where}: given {on}; give it once"
        super().__init__(message)
        self.field = field
        self.message = message


def decode_utf8(data: bytes) -> str:
    """``data`` as text; ``ValueError`` naming the first byte that is not UTF-8 and its line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        message = f"not UTF-8 text: byte 0x{byte:02x} at offset {exc.start} (line {line})"
        raise ValueError(f"{message}; save it as UTF-8") from None


def read_text(path: Path) -> str:
    """A file as UTF-8 text: ``OSError`` when it cannot be read, ``ValueError`` when not UTF-8."""
    return decode_utf8(path.read_bytes())


def read_stdin() -> str:
    """Standard input as UTF-8 text (bytes when it has them, as a file's are read)."""
    buffer = getattr(sys.stdin, "buffer", None)
    return decode_utf8(buffer.read()) if buffer is not None else sys.stdin.read()


def load_documents(text: str) -> list[Any]:
    """Every YAML document in ``text`` (``None`` for an empty one), as ``yaml.safe_load_all``.

    Raises ``yaml.YAMLError`` for invalid YAML and :class:`DuplicateKey`.
    """
    loader = yaml.SafeLoader(text)
    try:
        nodes: list[Node] = []
        while loader.check_node():
            node = loader.get_node()  # a node whenever check_node() says there is one
            if node is not None:
                nodes.append(node)
        for index, node in enumerate(nodes):
            _check_keys(node, "", index + 1 if len(nodes) > 1 else None, set())
        return [loader.construct_document(node) for node in nodes]
    finally:
        loader.dispose()


def load_document(text: str) -> Any:
    """The one YAML document in ``text``, as ``yaml.safe_load`` (``None`` when empty)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_keys(node, "", None, set())
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_keys(node: Node, path: str, document: int | None, seen: set[int]) -> None:
    """Raise :class:`DuplicateKey` for the first key given twice in a mapping under ``node``."""
    if id(node) in seen:  # an alias of a node already walked (or a recursive one)
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else "(key)"
            child = f"{path}.{name}" if path else name
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                line = key.start_mark.line + 1
                identity = (key.tag, key.value)
                if identity in first_line:
                    raise DuplicateKey(child, (first_line[identity], line), document)
                first_line[identity] = line
            _check_keys(value, child, document, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _check_keys(item, f"{path}[{index}]", document, seen)
