// Package analysis judges what clients saw and says why: it runs every
// observation through the name matching of package match and the
// certificate checks (the Check registry, printed by `certsleuth checks`),
// traces where each client got the name it asked for (Autodiscover
// answers, redirects, DNS, the SCP, read with package exchange), and
// gathers the results into a Report of causes, each with its fix.
//
// Its stages, in order: judge (Judge, checks*.go, principal.go,
// certplan.go: per observation, with a certificate cache), attribute
// (origin.go, remedy.go, who.go, online.go: origins, remedies and the
// verdict sentences) and aggregate (the culprits: one group per cause).
// Every check has a stable ID, a severity, a citation and a remedy.
// Producers (proxy, capture, probe) only feed it: analysis imports none
// of them (docs/layout.md).
package analysis
