"""LLM generation: one backend protocol (vLLM, transformers), the thinking-budget
routine above it, and the corpus stages that use them (prompts with their
checker, R0, self-rephrasing with its optional leak checker, instruction answers)."""
