"""The pipeline: engine, executors, human decisions."""
