"""Models: loading, sources, devices, the bundled encoder, adapters and soft prompts."""
