"""Adapters that read the monitoring stack: one module per backend behind `monitors.base.Monitor`."""
