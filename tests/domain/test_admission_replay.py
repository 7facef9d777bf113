"""The replay's looks for arrivals agree with SGLang's recv skipper stepped one at a time."""

from __future__ import annotations

import heapq
import itertools
from collections import deque

import pytest

from service.domain.benchmark_sim import (
    BenchmarkRun,
    _chunks,
    _Cohort,
    _report,
    request_lengths,
    run_scheduler,
)

WEIGHT = {"decode": 1, "prompt": 1000, "idle": 1}
"""SGLang ``SchedulerRecvSkipper`` weights: a decode step, any other step, no batch."""


def _price(decode_batch: int, prompt_tokens: int, repeats: int) -> float:
    return repeats * (0.01 + 0.001 * decode_batch + 1e-5 * prompt_tokens)


def _one_step_at_a_time(
    *, clients: int, num_prompts: int, max_batch: int, interval: int, ratio: float
) -> BenchmarkRun:
    """SGLang without mixed chunks, one request per cohort, one step per iteration: the skipper
    adds the last iteration's weight and receives once the count reaches ``interval``."""
    isl, osl, chunk = 300, 40, 1000
    inbox: deque[_Cohort] = deque()
    waiting: deque[_Cohort] = deque()
    prefilling: deque[_Cohort] = deque()
    decoding: list[tuple[int, int, _Cohort]] = []
    order = itertools.count()
    done: list[tuple[int, float, float, int]] = []
    sent = admitted = decoders = clock = steps = count = 0
    now, last = 0.0, "idle"

    def send(n: int) -> None:
        nonlocal sent
        for k in range(sent, sent + n):
            inbox.append(_Cohort(1, now, *request_lengths(k + 1, isl, osl, ratio)))
        sent += n

    send(min(clients, num_prompts))
    while decoding or prefilling or waiting or inbox:
        count += WEIGHT[last]
        if count >= interval:
            waiting.extend(inbox)
            inbox.clear()
            count = 0
        slots = max_batch - admitted
        if not (prefilling or (waiting and slots > 0)):
            if not decoding:
                last = "idle"  # no batch: the loop spins at no cost
                continue
            now += _price(decoders, 0, 1)
            clock, steps, last = clock + 1, steps + 1, "decode"
        else:
            planned = _chunks(prefilling, chunk, admitted, chunked=True, first=True)
            used = sum(c.count * t for c, t in planned)
            fresh = _chunks(waiting, chunk - used, slots, chunked=True, first=used == 0)
            admitted += sum(c.count for c, _ in fresh)
            planned += fresh
            now += _price(0, sum(c.count * t for c, t in planned), 1)
            steps, last = steps + 1, "prompt"
            for cohort, tokens in planned:
                cohort.computed += tokens
                if cohort.computed < cohort.isl:
                    prefilling.append(cohort)
                    continue
                cohort.first_s = now
                heapq.heappush(decoding, (clock + cohort.osl - 1, next(order), cohort))
                decoders += 1
        while decoding and decoding[0][0] <= clock:
            ended = heapq.heappop(decoding)[2]
            decoders, admitted = decoders - 1, admitted - 1
            done.append((1, ended.first_s - ended.arrival_s, now - ended.arrival_s, ended.osl))
            if sent < num_prompts:
                send(1)
    return _report(done, now, steps)


CASES = [
    (clients, batch, interval, ratio)
    for clients, batch in [(1, 8), (3, 2), (4, 8), (7, 4), (12, 5)]
    for interval in (1, 2, 3, 10)
    for ratio in (0.5, 1.0)
]


@pytest.mark.parametrize(
    ("clients", "max_batch", "interval", "ratio"),
    CASES,
    ids=[f"c{c}-b{b}-P{p}-r{r}" for c, b, p, r in CASES],
)
def test_the_replay_matches_the_skipper_step_by_step(
    clients: int, max_batch: int, interval: int, ratio: float
) -> None:
    """Same TTFT, TPOT and step count as the skipper replayed one step at a time, also when
    received requests wait for a slot (fewer slots than clients)."""
    reference = _one_step_at_a_time(
        clients=clients,
        num_prompts=4 * clients,
        max_batch=max_batch,
        interval=interval,
        ratio=ratio,
    )
    replay = run_scheduler(
        _price,
        isl=300,
        osl=40,
        clients=clients,
        num_prompts=4 * clients,
        chunk_tokens=1000,
        max_batch=max_batch,
        mixed_prefill=False,
        length_ratio=ratio,
        admission_interval=interval,
    )
    assert replay.steps == reference.steps
    assert replay.mean_ttft_ms == pytest.approx(reference.mean_ttft_ms, rel=1e-9)
    assert replay.mean_tpot_ms == pytest.approx(reference.mean_tpot_ms, rel=1e-9)
