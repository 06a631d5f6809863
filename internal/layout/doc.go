// Package layout holds no code, only the test that keeps certsleuth's
// packages in their stages: producers (capture, probe) and the record,
// then match, exchange, analysis and the reports, each importing only
// earlier stages (docs/layout.md).
package layout
