package main

// supportedFeatures: what this controller claims, written to its GatewayClasses'
// status; the conformance suite (conformance/) runs exactly these.
var supportedFeatures = []string{
	"Gateway",
	"HTTPRoute",
	"ReferenceGrant",
	"HTTPRouteHostRewrite",
	"HTTPRoutePathRewrite",
	"HTTPRoutePathRedirect",
	"HTTPRoutePortRedirect",
	"HTTPRouteSchemeRedirect",
	"HTTPRouteResponseHeaderModification",
	"HTTPRouteMethodMatching",
	"HTTPRouteQueryParamMatching",
	"HTTPRouteRequestTimeout",
	"HTTPRouteBackendProtocolWebSocket",
	"HTTPRoute303RedirectStatusCode",
	"HTTPRoute307RedirectStatusCode",
	"HTTPRoute308RedirectStatusCode",
	"HTTPRouteNamedRouteRule",
	"HTTPRouteParentRefPort",
	"GatewayPort8080",
	"HTTPRouteBackendTimeout",
	"HTTPRouteBackendRequestHeaderModification",
}
