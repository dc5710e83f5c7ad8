"""The domain: what Groundswell knows (mentions, detection, alerts), with no AWS in it."""
