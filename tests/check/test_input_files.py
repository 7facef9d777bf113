"""Input files the gate cannot read as given: not UTF-8, a key given twice, a directory."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from service.gate.command_line import parse_command
from service.gate.manifest import load_manifest
from service.gate.target import InputError
from tests.check.conftest import Run

MANIFEST = "model: meta-llama/Llama-3.1-8B\ngpu: h100-sxm\nmax_model_len: 8192\n"
NOT_UTF8 = [
    pytest.param(b"\xff\xfe\x00bad", "byte 0xff at offset 0 (line 1)", id="utf16-bom"),
    pytest.param(
        b"model: meta-llama/Llama-3.1-8B\ngpu: h100-sxm\nnote: caf\xe9\n",
        "byte 0xe9 at offset 54 (line 3)",
        id="latin1-e-acute",
    ),
]


@pytest.mark.parametrize(("content", "where"), NOT_UTF8)
def test_a_manifest_that_is_not_utf8_exits_2_naming_the_file_and_byte(
    run_check: Callable[..., Run], tmp_path: Path, content: bytes, where: str
) -> None:
    """Bytes that are not UTF-8 are bad input naming the file and the first such byte."""
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    result = run_check("--offline", str(path))
    assert (result.code, result.err) == (
        2,
        f"ERROR  {path}: field '(file)': not UTF-8 text: {where}; save it as UTF-8\n",
    )


@pytest.mark.parametrize(("content", "where"), NOT_UTF8)
def test_stdin_that_is_not_utf8_says_the_same_as_a_file(
    run_check: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
    where: str,
) -> None:
    """``-`` reads stdin's bytes as a file's are read, so the message is the file's."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(content), encoding="utf-8"))
    result = run_check("--offline", "-")
    assert (result.code, f"not UTF-8 text: {where}" in result.err) == (2, True)


def test_a_config_file_that_is_not_utf8_is_an_error_on_config(tmp_path: Path) -> None:
    """``--config serve.yaml`` in Latin-1 names ``--config`` and the byte."""
    (tmp_path / "serve.yaml").write_bytes(b"served-model-name: caf\xe9\n")
    with pytest.raises(InputError) as caught:
        parse_command(["vllm", "serve", "org/m", "--config", "serve.yaml"], base_dir=tmp_path)
    assert (caught.value.field, "not UTF-8 text: byte 0xe9" in caught.value.message) == (
        "--config",
        True,
    )


def test_a_model_config_that_is_not_utf8_is_an_error_on_model(tmp_path: Path) -> None:
    """A ``config.json`` in Latin-1 names the model field and the byte."""
    (tmp_path / "config.json").write_bytes(b'{"architectures": ["caf\xe9"]}')
    (tmp_path / "deploy.yaml").write_text("model: config.json\ngpu: l4\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_manifest(tmp_path / "deploy.yaml")
    assert (caught.value.field, "not UTF-8 text: byte 0xe9" in caught.value.message) == (
        "model",
        True,
    )


@pytest.mark.parametrize(
    ("text", "field", "lines"),
    [
        pytest.param("model: a/b\ngpu: l4\nmodel: meta-llama/Llama-3.1-8B\n", "model",
                     "given on lines 1 and 3", id="top-level"),
        pytest.param(MANIFEST + "workload:\n  input_tokens: 1\n  output_tokens: 2\n"
                     "  input_tokens: 3\n", "workload.input_tokens",
                     "given on lines 5 and 7", id="nested"),
        pytest.param('{"model": "a/b", "gpu": "l4", "gpu": "h100-sxm"}', "gpu",
                     "given twice on line 1", id="json"),
    ],
)  # fmt: skip
def test_a_key_given_twice_in_a_manifest_names_the_key_and_both_lines(
    tmp_path: Path, text: str, field: str, lines: str
) -> None:
    """YAML would keep the last of two equal keys silently; the gate refuses them."""
    path = tmp_path / "deploy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    assert (caught.value.source, caught.value.field) == (str(path), field)
    assert caught.value.message == f"duplicate key: {lines}; give it once"


def test_a_duplicate_key_exits_2(run_check: Callable[..., Run], tmp_path: Path) -> None:
    """``model:`` twice is bad input (exit 2), not a check of the second model."""
    path = tmp_path / "deploy.yaml"
    path.write_text(MANIFEST + "model: meta-llama/Llama-3.1-70B\n", encoding="utf-8")
    result = run_check("--offline", str(path))
    assert (result.code, result.err) == (
        2,
        f"ERROR  {path}: field 'model': duplicate key: given on lines 1 and 4; give it once\n",
    )


def test_a_duplicate_key_in_a_later_kubernetes_object_names_the_document(
    run_check: Callable[..., Run], tmp_path: Path
) -> None:
    """In a stream of objects the error says which document and the key's path."""
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n"
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n"
        "  - name: vllm\n    image: vllm/vllm-openai\n    image: other\n"
    )
    path = tmp_path / "k8s.yaml"
    path.write_text(f"{service}---\n{pod}", encoding="utf-8")
    result = run_check("--offline", str(path))
    message = "duplicate key in document 2: given on lines 13 and 14; give it once"
    assert (result.code, result.err) == (
        2,
        f"ERROR  {path}: field 'spec.containers[0].image': {message}\n",
    )


def test_a_duplicate_key_in_a_config_file_is_an_error_on_config(tmp_path: Path) -> None:
    """``--config`` names the file, the key and its lines."""
    (tmp_path / "serve.yaml").write_text("max-model-len: 4096\nmax-model-len: 8192\n")
    with pytest.raises(InputError) as caught:
        parse_command(["vllm", "serve", "org/m", "--config", "serve.yaml"], base_dir=tmp_path)
    assert (caught.value.field, caught.value.message) == (
        "--config",
        f"{tmp_path / 'serve.yaml'}: key 'max-model-len': duplicate key: given on lines 1 and 2;"
        " give it once",
    )


def test_merge_keys_and_aliases_are_not_duplicates(tmp_path: Path) -> None:
    """A key after ``<<: *base`` overrides the base's, as YAML merge keys mean it to, and an
    alias used twice is one mapping, not a repeated key."""
    path = tmp_path / "deploy.yaml"
    path.write_text(
        "<<: &base {gpu: l4, max_model_len: 4096}\nmodel: meta-llama/Llama-3.1-8B\n"
        "max_model_len: 8192\nengine_options: {a: *base, b: *base}\n",
        encoding="utf-8",
    )
    assert load_manifest(path).max_model_len == 8192


def test_a_directory_given_as_the_manifest_says_it_is_a_directory(
    run_check: Callable[..., Run], tmp_path: Path
) -> None:
    """A directory is not read as a serving command ("'adir' is not a serving command")."""
    directory = tmp_path / "adir"
    directory.mkdir()
    result = run_check("--offline", str(directory))
    message = "is a directory: expected a manifest file (YAML/JSON), - for stdin, or -- COMMAND"
    assert (result.code, result.err) == (2, f"ERROR  {directory}: field '(file)': {message}\n")


def test_a_model_directory_alone_is_still_a_bare_vllm_argument(
    run_check: Callable[..., Run], tmp_path: Path
) -> None:
    """A directory holding ``config.json`` is a model for ``vllm serve``, as before."""
    directory = tmp_path / "llama"
    directory.mkdir()
    (directory / "config.json").write_text("{}", encoding="utf-8")
    result = run_check("--offline", "--gpu", "l4", "--", f"{directory}/")
    assert "is a directory" not in result.err
