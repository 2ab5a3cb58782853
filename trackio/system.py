"""System metrics: CPU/memory via psutil and NVIDIA GPUs via nvidia-ml-py (contract §1.9).

Placeholder until the system-metrics issue: sampling functions return ``{}`` and automatic sampling
is off.
"""

from __future__ import annotations


def sample_cpu() -> dict:
    """One CPU/memory sample keyed by upstream's names; ``{}`` when psutil is missing."""
    return {}


def sample_gpu(device: int | None = None) -> dict:
    """One sample of each NVIDIA GPU (or ``device``); ``{}`` when nvidia-ml-py or a GPU is missing."""
    return {}


def start_samplers(run, auto_log_cpu, cpu_log_interval, auto_log_gpu, gpu_log_interval) -> list[str]:
    """Start the automatic samplers that apply and return the console notes to print."""
    return []
