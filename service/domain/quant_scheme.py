"""Which linear layers of a checkpoint are quantised, and to what format.

A :class:`QuantScheme` is read from ``quantization_config`` by
:mod:`service.domain.quantization`. Module names follow the transformers modelling code
(``model.layers.3.self_attn.q_proj``, ``model.layers.3.mlp.experts.0.down_proj``...).

Pattern rules, as the quantisation libraries apply them:

* ``re:<regex>``: compressed-tensors ``ignore``/``targets`` (``re.match`` on the module name,
  compressed-tensors ``utils/match.py``).
* a pattern with ``*`` or ``?``: a glob on the name or one of its dotted prefixes
  (ModelOpt ``exclude_modules``, gpt-oss ``model.layers.*.self_attn``).
* anything else: a run of whole dotted components of the name (``lm_head``,
  ``model.layers.0.mlp.gate``, ``self_attn``; transformers ``modules_to_not_convert``).
* ``Linear`` (compressed-tensors ``targets``): every linear layer.
"""

from __future__ import annotations

import functools
import re
from fnmatch import fnmatchcase
from typing import Annotated

import msgspec

from service.domain.weight_format import WeightFormat

EVERY_LINEAR = "Linear"


class ModuleRule(msgspec.Struct, frozen=True, kw_only=True):
    """Linear layers matching any of ``targets`` are stored as ``format``."""

    targets: Annotated[
        tuple[str, ...], msgspec.Meta(description="Module name patterns the rule covers")
    ]
    format: Annotated[WeightFormat, msgspec.Meta(description="How those weights are stored")]


class QuantScheme(msgspec.Struct, frozen=True, kw_only=True):
    """A checkpoint's quantisation: per-module formats, and the modules kept 16-bit.

    ``experts_only``: only routed-expert weights are quantised whatever the lists say (vLLM's
    ``mxfp4.py`` gives every ``LinearBase`` the unquantised method; gpt-oss).
    """

    method: Annotated[str, msgspec.Meta(description="Quantisation method of the checkpoint")]
    rules: Annotated[
        tuple[ModuleRule, ...],
        msgspec.Meta(description="Formats by module pattern, first match wins"),
    ]
    ignore: Annotated[tuple[str, ...], msgspec.Meta(description="Module patterns kept 16-bit")] = ()
    experts_only: Annotated[
        bool, msgspec.Meta(description="Whether only routed-expert weights are quantised")
    ] = False

    def format_of(self, module: str, *, is_expert: bool) -> WeightFormat | None:
        """The format ``module`` is stored in; None when it stays 16-bit."""
        if self.experts_only and not is_expert:
            return None
        if any(matches(pattern, module) for pattern in self.ignore):
            return None
        for rule in self.rules:
            if any(matches(target, module) for target in rule.targets):
                return rule.format
        return None


def matches(pattern: str, module: str) -> bool:
    """Whether ``pattern`` names ``module`` under the rules in the module docstring."""
    if pattern == EVERY_LINEAR:
        return True
    if pattern.startswith("re:"):
        return _regex(pattern[3:]).match(module) is not None
    if "*" in pattern or "?" in pattern:
        parts = module.split(".")
        return any(fnmatchcase(".".join(parts[:end]), pattern) for end in range(1, len(parts) + 1))
    wrapped = f".{module}."
    return f".{pattern}." in wrapped


@functools.lru_cache(maxsize=512)
def _regex(expression: str) -> re.Pattern[str]:
    try:
        return re.compile(expression)
    except re.error:
        return re.compile(re.escape(expression))
