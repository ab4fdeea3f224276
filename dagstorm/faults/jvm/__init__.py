"""JVM faults: Byteman rules in the JVMs of the pipeline's own Spark applications."""
