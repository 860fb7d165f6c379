"""Training: example selection and loading, length bucketing, the accelerate loop,
preemption-safe checkpoints, and launching over the GPUs SLURM gives."""
