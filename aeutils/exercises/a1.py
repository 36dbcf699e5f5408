"""Exercises of appendix A1 (training on many devices): ``from aeutils.exercises.a1 import q1, q2, q3``."""

from __future__ import annotations

import json
import math
import numbers

import numpy as np

from aeutils.exercises import Exercise, call

WORKERS = ["10.0.0.1:2222", "10.0.0.2:2222"]


def _check_replica_loss(fn) -> str | None:
    per_image = np.random.default_rng(11).gamma(5.0, 50.0, size=12).astype(np.float32)
    want = float(per_image.mean())
    for sizes in ((4, 4, 4), (6, 3, 3)):  # three replicas: even shards, then an uneven last batch
        shards = np.split(per_image, np.cumsum(sizes)[:-1])
        parts = [np.asarray(call(fn, s, len(per_image)), dtype=np.float64) for s in shards]
        if any(p.shape != () for p in parts):
            return f"return one number per replica (a scalar), not shape {parts[0].shape}: sum over the images."
        total = float(sum(parts))
        if math.isclose(total, want, rel_tol=1e-5):
            continue
        if math.isclose(total, sum(float(s.mean()) for s in shards), rel_tol=1e-5):
            return ("that is each shard's mean: the replicas' gradients add up to N times the right one — the "
                    "unscaled loss of section 2.")
        if math.isclose(total, float(per_image.sum()), rel_tol=1e-5):
            return "the replicas' sums add up to the global batch's *sum*: divide by the global batch size."
        if sizes == (6, 3, 3):
            return "right for equal shards only: divide the replica's sum by the global batch size, not its mean by N."
        return "each replica returns sum(its per-image losses) / global_batch_size; summed, that is the global mean."
    return None


def _check_equivalent_lr(answer) -> str | None:
    if not isinstance(answer, numbers.Real) or isinstance(answer, bool):
        return f"give a number, not {type(answer).__name__}."
    if math.isclose(answer, 0.04, rel_tol=1e-6):
        return None
    if math.isclose(answer, 0.01, rel_tol=1e-6):
        return "SGD has no cancelling: the naive step on 4 replicas is 4 times the step of the mean loss."
    if math.isclose(answer, 0.0025, rel_tol=1e-6):
        return "the other way round: the naive updates are *larger* than the corrected ones."
    return "each naive step is the corrected step times the number of replicas: scale the learning rate the same."


def _check_tf_config(answer) -> str | None:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError as err:
            return f"that string is not JSON ({err}): give a dict, or json.dumps of one."
    if not isinstance(answer, dict) or set(answer) != {"cluster", "task"}:
        return 'give a dict with two keys: "cluster" (every worker\'s address) and "task" (this process).'
    workers = answer["cluster"].get("worker") if isinstance(answer["cluster"], dict) else None
    if workers != WORKERS:
        if isinstance(workers, list) and sorted(workers) == sorted(WORKERS):
            return "list the workers in the same order on every machine: the index points into that list."
        return 'cluster must be {"worker": [both addresses]}: every process is told the whole cluster.'
    task = answer["task"]
    if not isinstance(task, dict) or task.get("type") != "worker":
        return 'task must be {"type": "worker", "index": ...}.'
    if task.get("index") == 2:
        return "indices count from 0: the second worker has index 1."
    if task.get("index") != 1:
        return "the task's index says which of the listed workers this process is."
    return None


q1 = Exercise(
    "q1", _check_replica_loss,
    "The optimizer adds the replicas' gradients. Which per-replica number, summed over the replicas, is the mean over "
    "all global_batch_size images?",
    "def replica_loss(per_image, global_batch_size):\n"
    "    return ops.sum(per_image) / global_batch_size  # summed over the replicas: the global mean",
)
q2 = Exercise(
    "q2", _check_equivalent_lr,
    "Section 2 measured it: with the naive loss, one SGD step on N replicas is N times the one-device step.",
    "0.04  # 4 replicas × 0.01: the naive loss multiplies every gradient by the number of replicas",
)
q3 = Exercise(
    "q3", _check_tf_config,
    "Every worker gets the same cluster list; only the task's index differs, counting from 0.",
    '{"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]}, "task": {"type": "worker", "index": 1}}',
)
