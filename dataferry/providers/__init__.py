"""Vendor clients, one package or module per vendor."""
