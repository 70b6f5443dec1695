"""Domain rules. No boto3 and no HTTP framework here: repositories and adapters are injected."""
