"""Persistence: tables (``models``), engines and migrations (``session``), data access
(``repository`` and the per-table repositories), and the seed catalog sync."""
