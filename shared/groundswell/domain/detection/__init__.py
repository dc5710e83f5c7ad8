"""Crisis detection: pure functions over numbers. The only part of the package that uses numpy/scipy
(imported by the detector function, never by the pollers)."""
