// Package report renders an analysis.Report as text, Markdown, JSON Lines
// or one self-contained HTML file, with the sequence picture (SVG). It
// lays out what analysis found (the causes, their origins and fixes) and
// decides nothing itself: every format renders the same fields.
package report
