// OpenID Connect discovery for the local target's Microsoft Entra ID stand-in (scripts/local-stack).
// Standard library only.
module archetype.local/tools/entra-issuer

go 1.24.0
