"""`make bench`: serving, forecast computation, retraining, cold start, memory and a soak, measured in one run."""
