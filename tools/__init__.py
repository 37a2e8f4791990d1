"""Developer tools: the stack runner, benchmarks, the load test and the NLU report."""
