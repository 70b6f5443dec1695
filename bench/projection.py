"""From measured per-delivery work to AWS: the cost of 1,000,000 deliveries at list prices and the drain
time of 100,000 due in one minute under the configured concurrency and AWS's default limits. The formulas
are written out in bench/README.md ("Cost and drain on AWS"); every input is a figure of the same JSON line
or a constant below, with its source."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# List prices, us-east-1 (aws.amazon.com/lambda/pricing, /dynamodb/pricing/on-demand, /sqs/pricing).
LAMBDA_GB_S_USD = 0.0000166667  # x86, first 6 billion GB-s a month
LAMBDA_REQUEST_USD = 0.20 / 1e6
DDB_WRU_USD = 0.625 / 1e6  # on-demand write request unit (1 KB; 2 in a transaction)
DDB_RRU_USD = 0.125 / 1e6  # on-demand read request unit (4 KB strongly consistent)
SQS_REQUEST_USD = 0.40 / 1e6  # standard queue, per 64 KB request

# Lambda gives a function one vCPU at 1,769 MB, in proportion below (Lambda developer guide, memory).
MB_PER_VCPU = 1769
# One DynamoDB or SQS request from Lambda in the same region: a few ms (an assumption, not measured here).
AWS_RTT_MS = 6.0
# A social network's API answering a post; the bench's sandbox takes 50 ms, real networks 100-1000 ms.
NETWORK_MS = 300.0
WORKER_BATCH = 10  # records a worker invocation handles at once (publishing_jobs.py)
STREAM_BATCH = 100  # records a count_outcomes invocation gets (metric_jobs.py)
# AWS's documented defaults: account concurrency; an on-demand table's default maximum throughput (the
# table-level quota); a new on-demand table's warm throughput; one partition's write limit.
ACCOUNT_CONCURRENCY = 1000
TABLE_MAX_WRU_S = 40_000
NEW_TABLE_WRU_S = 4_000
PARTITION_WRU_S = 1_000
TICK_LEAD_S = 60  # the tick queues a delivery 60-120 s before it is due: work within the lead costs no lateness
# An SQS event source (standard mode) starts with five concurrent batches and adds up to 300 a minute while
# messages wait (Lambda developer guide, "Configuring scaling behavior for SQS event source mappings").
SQS_START_CONCURRENCY = 5
SQS_RAMP_PER_S = 300 / 60
DRAIN_DELIVERIES = 100_000


def deployed(stage: str = "prod") -> dict[str, Any]:
    """Memory, timeout and reserved concurrency of each function in `stage`, from .chalice/config.json."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = config["stages"][stage].get("lambda_functions", {})
    environment = {**config.get("environment_variables", {}),
                   **config["stages"][stage].get("environment_variables", {})}

    def of(name: str) -> dict[str, Any]:
        own = functions.get(name, {})
        return {"memory_mb": own.get("lambda_memory_size", config.get("lambda_memory_size", 128)),
                "concurrency": own.get("reserved_concurrency")}

    shards = int(environment.get("HERALD_DUE_SHARDS", "8"))
    # The scheduled tick only fans out (one unit per due shard on the tick queue); the tick workers read the
    # shards, as many at once as their reserved concurrency lets (a shard is one unit at a time).
    tick_worker = of("tick_worker")
    return {"worker": of("publish_worker"), "tick": tick_worker, "fan_out": of("tick"),
            "counter": of("count_outcomes"), "due_shards": shards,
            "tick_threads": int(environment.get("HERALD_TICK_THREADS", "8")),
            "tick_workers": min(shards, tick_worker["concurrency"] or ACCOUNT_CONCURRENCY)}


def _vcpu(memory_mb: int) -> float:
    return min(1.0, memory_mb / MB_PER_VCPU)


def durations_ms(figures: dict[str, Any], config: dict[str, Any]) -> dict[str, float]:
    """Billed Lambda milliseconds per delivery, per function."""
    worker_cpu = figures["worker_cpu_ms_per_delivery"] / _vcpu(config["worker"]["memory_mb"])
    requests = figures["engine_ddb_reads_per_delivery"] + figures["burst_ddb_writes_per_delivery"] + \
        figures["engine_sqs_requests_per_delivery"]
    # A batch's records run at once: the invocation lasts as long as its CPU, or one record's waits, if longer.
    invocation = max(WORKER_BATCH * worker_cpu, worker_cpu + requests * AWS_RTT_MS + NETWORK_MS)
    tick = figures["tick_cpu_ms_per_delivery"] / _vcpu(config["tick"]["memory_mb"]) + \
        AWS_RTT_MS * 1.1 / config["tick_threads"]  # one update each, a send per 10, on its threads
    counter = figures["counter_cpu_ms_per_delivery"] / _vcpu(config["counter"]["memory_mb"]) + 2 * AWS_RTT_MS
    return {"worker_invocation": invocation, "worker": invocation / WORKER_BATCH, "tick": tick, "counter": counter}


def cost_per_million_usd(figures: dict[str, Any], config: dict[str, Any]) -> float:
    ms = durations_ms(figures, config)
    gb_s = sum(ms[name] / 1000 * config[name]["memory_mb"] / 1024 for name in ("worker", "tick", "counter"))
    invocations = 1 / WORKER_BATCH + 1 / STREAM_BATCH
    wru = figures["burst_ddb_wcu_per_delivery"]
    rru = figures["engine_ddb_reads_per_delivery"]
    sqs = figures["engine_sqs_requests_per_delivery"]
    per_delivery = (gb_s * LAMBDA_GB_S_USD + invocations * LAMBDA_REQUEST_USD + wru * DDB_WRU_USD
                    + rru * DDB_RRU_USD + sqs * SQS_REQUEST_USD)
    return round(per_delivery * 1_000_000, 2)


def ramped_s(work: float, per_instance_per_s: float, concurrency: int) -> float:
    """Seconds an SQS event source needs for `work` items at `per_instance_per_s` each, starting from
    SQS_START_CONCURRENCY instances and adding SQS_RAMP_PER_S a second up to `concurrency`."""
    start = min(SQS_START_CONCURRENCY, concurrency)
    ramp_s = (concurrency - start) / SQS_RAMP_PER_S
    during_ramp = per_instance_per_s * (start * ramp_s + SQS_RAMP_PER_S * ramp_s ** 2 / 2)
    if work <= during_ramp:  # start·t + k·t²/2 = work / rate
        return float((-start + (start ** 2 + 2 * SQS_RAMP_PER_S * work / per_instance_per_s) ** 0.5)
                     / SQS_RAMP_PER_S)
    return ramp_s + (work - during_ramp) / (per_instance_per_s * concurrency)


def tick_s(n: int, ms_per_delivery: float, config: dict[str, Any]) -> float:
    """The tick workers' time for `n` deliveries spread evenly over the due shards: the units start as the
    event source ramps up, each reads its shard (handing over to a new unit every 20 s, which changes nothing
    here), and the last to start decides."""
    units = config["tick_workers"]
    last_start = max(0, units - SQS_START_CONCURRENCY) / SQS_RAMP_PER_S
    return last_start + n / units * ms_per_delivery / 1000


def drain_100k(figures: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """Seconds each limit alone needs for 100,000 deliveries due at once; the drain is the largest."""
    ms = durations_ms(figures, config)
    concurrency = min(config["worker"]["concurrency"] or ACCOUNT_CONCURRENCY, ACCOUNT_CONCURRENCY)
    n = DRAIN_DELIVERIES
    wru = figures["burst_ddb_wcu_per_delivery"]
    counter_wru = figures.get("burst_counter_wcu_per_delivery", 0.0)
    per_worker_per_s = WORKER_BATCH / (ms["worker_invocation"] / 1000)
    limits = {
        # the publish workers at their reserved concurrency, reached at the SQS event source's ramp
        f"worker concurrency ({concurrency}, ramped +300/min)": ramped_s(n, per_worker_per_s, concurrency),
        # per table: the posts table (the engine's writes) and the metrics table (the counter consumer's)
        "table throughput (40,000 WRU/s)": n * max(wru - counter_wru, counter_wru) / TABLE_MAX_WRU_S,
        # the `due` index entry of each delivery is written when queued and when it ends, on its shard
        "due index partitions": n * 2 / (config["due_shards"] * PARTITION_WRU_S),
        f"tick workers ({config['tick_workers']} shards at once, beyond their 60 s lead)":
            max(0.0, tick_s(n, ms["tick"], config) - TICK_LEAD_S),
    }
    binding = max(limits, key=lambda name: limits[name])
    new_table = max(limits[binding], n * max(wru - counter_wru, counter_wru) / NEW_TABLE_WRU_S)
    return {"projected_drain_100k_s": round(limits[binding], 1), "projected_drain_binds": binding,
            "projected_drain_limits_s": {name: round(value, 1) for name, value in limits.items()},
            "projected_drain_100k_s_new_table": round(new_table, 1),
            "projected_worker_concurrency": concurrency,
            "projected_worker_drain_unramped_s": round(n / (concurrency * per_worker_per_s), 1),
            "projected_tick_workers": config["tick_workers"],
            "projected_tick_s": round(tick_s(n, ms["tick"], config), 1)}
