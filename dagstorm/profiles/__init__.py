"""Pipeline profiles: the pipeline under test, declared in ``pipelines/<name>/pipeline.yaml``."""
