"""Outputs built from exams: contract JSON, long tables and EDC formats."""
