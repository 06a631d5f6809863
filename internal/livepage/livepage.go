// Package livepage holds the live page certsleuth's proxy, pcap --live and
// demo --serve show in a browser: plain HTML, a style sheet and a small
// script, embedded in the binary. proxy.Web serves them with the events.
// The script builds every element with textContent (never innerHTML), so
// nothing from a trace is ever parsed as markup, and the page loads
// nothing but its own files (see the Content-Security-Policy in proxy.Web).
package livepage

import _ "embed"

// Index is the page (served at /live).
//
//go:embed index.html
var Index []byte

// Script is the page's script (/live/app.js).
//
//go:embed app.js
var Script []byte

// Style is the page's style sheet (/live/app.css).
//
//go:embed app.css
var Style []byte
