"""Developer tools: training, the NLU hold-out evaluation, the benchmark and the process runner."""
