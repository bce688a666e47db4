"""Backends talk to clusters: Ganeti over RAPI, libvirt hosts over libvirt-python.

Only workers call them; the web process never does. They are plain Python (no Django imports)
so they can be tested and benchmarked alone.
"""
