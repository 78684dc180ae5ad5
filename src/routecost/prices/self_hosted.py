"""What a token costs on a model the team serves itself: GPU time, not a price sheet.

A replica (``gpus`` GPUs at ``gpu_hour`` USD each) reads prompts at ``prefill_tokens_s`` and writes
answers at ``decode_tokens_s`` (measured on the team's own hardware, summed over the requests it
serves at once; speculative decoding multiplies the decode rate). A fleet is never busy all the
time: at a ``utilisation`` of 60%, 40% of the GPU-hours paid serve nothing. So one input token costs
``gpu_hour * gpus / 3600 / prefill_tokens_s / utilisation`` and one output token the same over the
decode rate: the tier's effective price, which a policy's routes to it are priced at, like any
catalog model. What a fixed fleet would cost instead is ``simulate/self_hosted.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

SELF_HOSTED = "self_hosted"
"""The provider id of every self-hosted tier: its model id is ``self_hosted/<name>``."""
DEFAULT_UTILISATION = 0.5
"""Share of the paid GPU time that serves requests, when the policy does not say."""


@dataclass(frozen=True)
class SelfHostedTier:
    """A model the team serves on its own GPUs, as a policy describes it (``self_hosted:``)."""

    name: str
    gpu_hour_usd: float
    """USD per GPU per hour."""
    gpus: int
    """GPUs per replica."""
    prefill_tokens_s: float
    """Input tokens a replica reads per second."""
    decode_tokens_s: float
    """Output tokens a replica writes per second, over all the requests it serves at once."""
    utilisation: float = DEFAULT_UTILISATION
    speculative_speedup: float = 1.0
    """Decode speed-up from speculative decoding (the practice reports about 2x on chat, 3x on code)."""
    replicas: int | None = None
    """A fixed fleet's size, when the team runs one; otherwise the fleet is sized for the peak hour."""
    gpu: str = ""
    """The GPU's name, for the report."""

    @property
    def model_id(self) -> str:
        return f"{SELF_HOSTED}/{self.name}"

    @property
    def replica_hour_usd(self) -> float:
        return self.gpu_hour_usd * self.gpus

    @property
    def replica_seconds_per_input_token(self) -> float:
        return 1.0 / self.prefill_tokens_s

    @property
    def replica_seconds_per_output_token(self) -> float:
        return 1.0 / (self.decode_tokens_s * self.speculative_speedup)

    @property
    def input_usd_per_token(self) -> float:
        return self.replica_hour_usd / 3600 * self.replica_seconds_per_input_token / self.utilisation

    @property
    def output_usd_per_token(self) -> float:
        return self.replica_hour_usd / 3600 * self.replica_seconds_per_output_token / self.utilisation

    @property
    def rates_per_unit(self) -> dict[str, float]:
        """The tier's rate card (``rates.flat_card``): cache reads and writes cost what input does."""
        return {"uncached_input": self.input_usd_per_token, "output": self.output_usd_per_token}
