"""The ALARM model: frozen encoders, layer averaging, adapters, fusion, the frozen
Qwen3 wrapper and the ALARM-E ensemble; plus the tiny-model factory and the
offline tokenizers the default configuration uses."""
