"""The local stack behind `make run`. Not shipped to Lambda: it lives outside chalicelib."""
