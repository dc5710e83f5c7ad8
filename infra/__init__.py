"""Running the stack outside AWS: provisioning from template.yaml, the embedded emulator, the demo."""
