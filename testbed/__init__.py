"""Real services for the tests and the demo: started on free ports or in private directories.

Plain Python, no Django imports: the test fixtures, the demo command and the benchmarks share it.
"""
