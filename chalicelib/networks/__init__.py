"""One module per social network behind the interface in `base`."""
