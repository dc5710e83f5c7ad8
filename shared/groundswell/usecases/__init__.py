"""The use cases: one module per thing the functions do (dispatch, poll, push, detect), each a plain function
over the ports it needs (``groundswell.domain.ports``), wired by ``groundswell.runtime``. The notifier's use cases
are ``groundswell.usecases.notify``."""
