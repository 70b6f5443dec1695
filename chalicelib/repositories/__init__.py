"""The only code that knows table layouts and key formats (see docs/data-model.md)."""
