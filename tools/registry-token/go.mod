// Token server for the local registry's bearer mode (scripts/local-stack).
// Standard library only.
module archetype.local/tools/registry-token

go 1.24.0
