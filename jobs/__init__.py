"""RQ jobs, one per module; each takes ids, reloads rows, and is safe to run twice."""
