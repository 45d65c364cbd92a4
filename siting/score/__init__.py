"""Soft criteria: factor classes, transforms, weights, aggregation, sensitivity and relaxation.

The package holds no code of its own; import its modules (``siting.score.factors``...).
"""
