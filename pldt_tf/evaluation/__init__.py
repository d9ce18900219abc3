"""Evaluation: the paper's metrics and an automated stand-in for its user
study (an attribute probe trained on real product images)."""
