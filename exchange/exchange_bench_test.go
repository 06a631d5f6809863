package exchange

import "testing"

// BenchmarkParseAutodiscover parses the largest POX answer of testdata.
func BenchmarkParseAutodiscover(b *testing.B) {
	body := readAD(b, "pox-2006a-full.xml")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAutodiscover("text/xml", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExplainError looks up a dialog text (the slowest kind of input).
func BenchmarkExplainError(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ExplainError("The name of the security certificate is invalid or does not match the name of the site.")
	}
}
