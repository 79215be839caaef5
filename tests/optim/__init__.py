"""Optimizers and lr schedulers: update rules vs PyTorch, state, validation."""
