"""Coursework pages. Every object is fetched through courses.access (a 404 otherwise); none of
them talks to a cluster: the deployment checks run in workers (courses.jobs)."""
