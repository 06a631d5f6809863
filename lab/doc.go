// Package lab stages the certificate-warning stories certsleuth diagnoses
// on 127.0.0.1, in-process, with nothing installed and no network: the
// engine behind `certsleuth demo`.
//
// # What a lab is
//
// A Lab is started from a Config, the Exchange configuration a scenario
// stands for (the SCP URL, the virtual directories' InternalUrl and
// ExternalUrl, Outlook Anywhere's host name and CertPrincipalName, the
// certificates bound to IIS, the DNS records, the HTTP redirect). Start
// brings up, on ephemeral loopback ports:
//
//   - a lab CA and the server certificates the Config names, minted at run
//     time (keys never leave memory);
//   - a fake Exchange Client Access server answering POX, mobilesync, SOAP
//     and v2 JSON Autodiscover, and EWS, OAB, MAPI/HTTP, RPC/HTTP, OWA and
//     ActiveSync endpoints plausibly, choosing its certificate by SNI with a
//     default (non-SNI) binding like IIS;
//   - the HTTP redirect responder (Outlook's port-80 Autodiscover method);
//   - the public web site that answers for the bare domain, when the
//     scenario has one;
//   - a Resolver mapping the lab's names to those listeners (A and SRV
//     answers from data; no /etc/hosts edits, no real DNS).
//
// # Scenarios
//
// Scenarios are data (see Scenarios): each names the client (Outlook or an
// ActiveSync phone, with its client profile), the broken Config, the
// Changes that fix it (each with the Exchange Management Shell command),
// and the request that is expected to make the client warn.
//
// # The scripted client
//
// Run drives a scripted client through a started lab: Outlook tries the
// SCP URL, the root domain, autodiscover.<domain>, the HTTP redirect and
// DNS SRV in that order (MS-OXDISCO §3.1.5, KB 3211279), then uses the URLs
// Autodiscover returned; a phone POSTs mobilesync requests and sends
// OPTIONS to the ActiveSync URL (MS-ASCMD §2.2.1.1). Each server
// certificate is judged with analysis.Match under the client's profile and
// against the lab CA; on a warning the scripted user declines and the
// client moves on as the real one would. Every step is noted as a
// record.Observation (source "demo").
//
// # Through the proxy
//
// StartProxy puts the certsleuth proxy in mirror mode in front of a lab
// (its Resolve map is ProxyResolve; it trusts the lab CA as the clients'
// private root), and ProxyVia carries the scripted client through it as
// CONNECT tunnels and absolute-URI requests. With Options.Proxy, Run does
// both, and the act's Observations are what the proxy recorded (with the
// client's DNS answers between them): what `certsleuth proxy --record`
// would have written for a real client. They replay with
// `certsleuth replay --ca-file <lab CA>`.
//
// # Shows
//
// Play tells a scenario in two acts (as found, then with its Changes
// applied), each with a fresh lab and proxy, and runs certsleuth's
// analysis on each act's trace; WriteText and WriteHTML render the story
// and the handout, Problems says whether it ran as the scenario's Expect
// says. This is `certsleuth demo`.
package lab
