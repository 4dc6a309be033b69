// The API server's egress for cluster traffic in the local deploy target
// (scripts/local-stack). Standard library only.
module archetype.local/tools/node-egress

go 1.24.0
