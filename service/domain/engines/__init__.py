"""One module per engine's start-up memory accounting (vLLM V1, SGLang, TensorRT-LLM).

vLLM V0 stays in :mod:`service.domain.engine` with the profile data classes; the KV-cache
byte formulas and the allocators' layout are in :mod:`service.domain.kv_cache`.
"""
