// Package analysis judges what clients saw and says why: it runs every
// observation through the name matching of package match and the
// certificate checks (the Check registry, printed by `certsleuth checks`),
// traces where each client got the name it asked for (Autodiscover
// answers, redirects, DNS, the SCP, read with package exchange), and
// gathers the results into a Report of causes, each with its fix.
//
// Observations flow once through its stages (Pipeline, pipeline.go;
// Analyze collects a whole trace the same way):
//
//   - judge, per observation, with a certificate cache: judge.go, the
//     registry in checks.go and the checks in checks_*.go and principal.go,
//     errwords.go (Go's errors in words), share.go (what many observations
//     have in common, kept once);
//   - attribute, from what came before: origin.go (where the client got
//     the name: Autodiscover fields, redirects, DNS, the SCP; the Outlook
//     Anywhere principal an answer required, with principal.go);
//   - aggregate, one group per cause: aggregate.go (Culprit, compact,
//     Report.Causes and Explain; Totals), spill_details.go (the causes'
//     first and example requests, in memory or a temporary file in the
//     binary form of spill_codec.go), notes.go
//     (what no client warns about, counted), findings.go;
//   - explain each cause: remedy.go, online.go and certplan.go (the fixes
//     and the names a new certificate needs), who.go (who warns, in words);
//   - hand over: the items go to an ItemSink (sink.go; spill.go writes them
//     to a file) and the Report to package report, which renders it.
//
// words.go holds the sentence helpers every stage uses, publicname.go
// the names a public CA may issue (PublicCAIssuable). Every check has a
// stable ID, a severity, a citation and a remedy. Producers (proxy,
// capture, probe) only feed analysis and package report renders what it
// concluded: analysis imports none of them (docs/layout.md).
package analysis
