// Package certs loads, describes and mints certificates: reading PEM and
// DER files, summarising certificates for reports, and (for the proxy and
// the demo lab) certsleuth's local CA and the leaves it signs.
package certs
