"""The domain: plain functions that take data and return data, free of Prefect."""
