"""DynamoDB adapters. `keys` is the one module that knows how keys are built."""
